/**
 * Starting worker threads from a compiled build (production: `dist/`, plain `.js`, started directly) as well as from
 * TypeScript sources under tsx (development and tests). Whether a worker inherits tsx's loader hooks depends on the
 * Node.js release (re-checked: Node 24.22 and 22.23 do; 22.15 to 22.22 do not, and 22.18+ then strips types natively
 * but cannot resolve our `./x.js` imports of `.ts` files), so a `.ts` worker still starts through a one-line bootstrap
 * that registers tsx inside the worker first. It costs nothing in production, where workers are `.js`.
 */

import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * URL of a worker entry module next to `siblingOf` (an `import.meta.url`), with the same extension as that
 * module: `.ts` when running under tsx, `.js` in a compiled build. `baseName` has no extension.
 */
export function workerModuleUrl(baseName: string, siblingOf: string): URL {
  const ext = extname(fileURLToPath(siblingOf)) || '.js';
  return new URL(`./${baseName}${ext}`, siblingOf);
}

/** Starts a worker thread running the ES module at `url` (`.ts` or `.js`). */
export function spawnModuleWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!/\.[cm]?ts$/.test(url.pathname)) return new Worker(url, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })` +
    // Rethrown outside the promise chain so it surfaces as the worker's 'error' event.
    `.catch((error) => { setImmediate(() => { throw error; }); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
