/**
 * nghttp2's h2load as a second, independent load generator, where it fits:
 * h2load cannot present a client certificate and does not read gRPC trailers
 * (it counts HTTP 2xx, and a refused gRPC call is HTTP 200 too), so it serves
 * as a cross-check against plaintext servers that always answer OK: if it and
 * the Go client agree, the Go client is not what limits the figures.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What one h2load run does. */
export interface H2loadOptions {
  /** `127.0.0.1:<port>`, plaintext (h2c). */
  target: string;
  method: string;
  /** Request message bytes, framed here as one gRPC message. */
  request: Buffer;
  /** Bearer token header on every request, so the server sees the same headers as from the Go client. */
  token?: string;
  connections: number;
  /** Streams in flight per connection. */
  inflight: number;
  durationMs: number;
  warmupMs: number;
  /** Pin h2load to this CPU (taskset). */
  cpu?: number;
  /** A directory for the request body file. */
  dir: string;
}

/** What h2load reported. */
export interface H2loadResult {
  /** Responses with HTTP status 2xx per second of the measured window. */
  callsPerSec: number;
  succeeded: number;
  failed: number;
}

/** Runs h2load once; rejects with its output when it fails or prints nothing readable. */
export function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  const body = join(options.dir, 'h2load-request.bin');
  const framed = Buffer.alloc(5 + options.request.length);
  framed.writeUInt32BE(options.request.length, 1);
  options.request.copy(framed, 5);
  writeFileSync(body, framed);
  const args = [
    '-c',
    String(options.connections),
    '-m',
    String(options.inflight),
    '-D',
    `${options.durationMs}ms`,
    '--warm-up-time',
    `${options.warmupMs}ms`,
    '-d',
    body,
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    '-H',
    'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    ...(options.token ? ['-H', `authorization: Bearer ${options.token}`] : []),
    `http://${options.target}${options.method}`,
  ];
  const [command, argv] = options.cpu === undefined ? ['h2load', args] : ['taskset', ['-c', String(options.cpu), 'h2load', ...args]];
  return new Promise((resolve, reject) => {
    execFile(command, argv, { timeout: options.durationMs + options.warmupMs + 30_000 }, (error, stdout, stderr) => {
      // Not error.message: it repeats the command line, token included.
      if (error) return reject(new Error(`h2load failed (${error.code ?? error.signal}): ${stderr.slice(0, 500)}`));
      const finished = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(stdout);
      const requests = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(stdout);
      const codes = /status codes: (\d+) 2xx/.exec(stdout);
      if (!finished || !requests || !codes) return reject(new Error(`cannot read h2load's output: ${stdout.slice(0, 800)}`));
      const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
      resolve({ callsPerSec: Number(codes[1]) / seconds, succeeded: Number(requests[1]), failed: Number(requests[2]) });
    });
  });
}
