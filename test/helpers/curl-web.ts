import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** What curl got from the web listener. */
export interface CurlWebReply {
  status: number;
  /** Response headers, lower-case names (the last value of a repeated one). */
  headers: Record<string, string>;
  body: Buffer;
  /** `2` or `1.1`: the HTTP version curl used. */
  httpVersion: string;
}

/** How to reach a web listener with curl: port, CA, and optionally a client certificate. */
export interface CurlWebTarget {
  port: number;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Plaintext (`insecure` mode). Default false. */
  plaintext?: boolean;
}

/**
 * One request with the real curl (HTTP/2 over TLS by ALPN unless `--http1.1`
 * is among `args`). `args` are extra curl arguments (headers, method, data).
 */
export async function curlWeb(target: CurlWebTarget, path: string, args: string[] = [], input?: Buffer): Promise<CurlWebReply> {
  const scheme = target.plaintext ? 'http' : 'https';
  const base = [
    '-sS',
    '--max-time',
    '30',
    '--resolve',
    `localhost:${target.port}:127.0.0.1`,
    '-D',
    '-',
    '-o',
    '-',
    '-w',
    '\n%{http_version}',
    ...(target.caFile ? ['--cacert', target.caFile] : []),
    ...(target.certFile && target.keyFile ? ['--cert', target.certFile, '--key', target.keyFile] : []),
  ];
  const child = execFileAsync('curl', [...base, ...args, `${scheme}://localhost:${target.port}${path}`], { encoding: 'buffer', maxBuffer: 64 << 20 });
  child.child.stdin!.end(input);
  const { stdout } = await child;
  // Headers, blank line, body, then our "\n<version>" trailer.
  const tail = stdout.lastIndexOf(0x0a);
  const httpVersion = stdout.subarray(tail + 1).toString();
  const all = stdout.subarray(0, tail);
  const split = all.indexOf('\r\n\r\n');
  const head = all.subarray(0, split).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(head[0]!.split(' ')[1]), headers, body: all.subarray(split + 4), httpVersion };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the gateway answered and assert on its fields.
export type LooseJson = any;

/** The reply body as JSON. */
export function json(reply: CurlWebReply): LooseJson {
  return JSON.parse(reply.body.toString('utf8')) as LooseJson;
}
