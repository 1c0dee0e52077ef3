import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WebResponse } from './cors.js';
import type { WebRequest } from './read-body.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The browser console's files (src/web/console/), next to this module in src/ and in dist/. */
export const CONSOLE_DIR = fileURLToPath(new URL('./console/', import.meta.url));

/**
 * Serves a fixed set of static files, read once at start (a few kilobytes):
 * no path from a request ever reaches the file system. `/` is index.html.
 * Returns whether the request was one of them.
 */
export function createStaticFiles(dir = CONSOLE_DIR) {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type !== undefined) files.set(`/${name}`, { type, body: readFileSync(join(dir, name)) });
  }
  const index = files.get('/index.html');
  if (index !== undefined) files.set('/', index);
  return function serveStatic(req: WebRequest, res: WebResponse, path: string): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const file = files.get(path);
    if (file === undefined) return false;
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': 'no-cache',
      // The console runs only its own script and talks only to this listener.
      'content-security-policy':
        "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'",
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  };
}
