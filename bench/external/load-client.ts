/**
 * The Go load generator (load-client/main.go): built once into a cache
 * directory from Debian's golang-google-grpc-dev, offline (GOPATH mode against
 * /usr/share/gocode), and run as its own process, pinned to its own core.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DevCertificateSet } from '../../certs/dev-certificates.js';
import { buildGoProgram, GO_CACHE_DIR } from './go-build.js';

/** Where the built client (and Go's build cache) live; the benchmark writes its JSON results there too. */
export const BENCH_CACHE_DIR = GO_CACHE_DIR;
const SOURCE_DIR = fileURLToPath(new URL('./load-client/', import.meta.url));

/** Builds the load client unless a binary of the current source is cached, and returns its path. */
export function buildLoadClient(): string {
  return buildGoProgram(SOURCE_DIR);
}

/** What one load run does. */
export interface LoadOptions {
  /** `127.0.0.1:<port>`. */
  target: string;
  /** Full method path; default ListVoices. */
  method?: string;
  /** Request message bytes; default ListVoicesRequest{language_code: "ru"}. */
  request?: Buffer;
  /** Default unary. */
  kind?: 'unary' | 'server-stream';
  /** Transport security; mtls presents alice's certificate from `certs`. */
  tls: 'mtls' | 'tls' | 'plaintext';
  /** Certificates (CA for tls and mtls, alice's pair for mtls). */
  certs: DevCertificateSet;
  /** Bearer token on every call; default none. */
  token?: string;
  /** HTTP/2 connections. Default 10. */
  connections?: number;
  /** Calls in flight per connection. Default 10. */
  inflight?: number;
  /** Measured window, in milliseconds. Default 3000. */
  durationMs?: number;
  /** Load before the window on the same connections, in milliseconds (not counted). Default 500. */
  warmupMs?: number;
  /** Server stream: messages a call must carry to count as OK. */
  expectMessages?: number;
  /** Report this process's CPU ticks over the window. */
  serverPid?: number;
  /** Pin the client to this CPU (taskset); default unpinned. */
  cpu?: number;
}

/** What the Go client printed for one run. */
export interface LoadResult {
  /** Calls finished (OK or not) in the window. */
  calls: number;
  ok: number;
  /** Non-OK calls by gRPC code, named as Go names them (`Unauthenticated`, `DeadlineExceeded`). */
  errors: Record<string, number>;
  /** The first non-OK call's error, for the report. */
  firstError?: string;
  seconds: number;
  /** OK calls per second of the window. */
  callsPerSec: number;
  /** Latency of OK calls, milliseconds. */
  p50Ms: number;
  p99Ms: number;
  /** Messages received by OK calls. */
  messages: number;
  /** The server process's utime + stime over the window, in clock ticks (`getconf CLK_TCK`). */
  serverCpuTicks?: number;
  /** The client's own utime + stime over the window, in clock ticks. */
  clientCpuTicks: number;
  connections: number;
  inFlight: number;
}

/** Runs the load client once and returns what it measured; rejects with its stderr when it fails. */
export async function runLoad(binary: string, options: LoadOptions): Promise<LoadResult> {
  const output = await execute(
    binary,
    [
      ...commonArgs(options),
      `-connections=${options.connections ?? 10}`,
      `-inflight=${options.inflight ?? 10}`,
      `-duration=${options.durationMs ?? 3000}ms`,
      `-warmup=${options.warmupMs ?? 500}ms`,
      `-expect-messages=${options.expectMessages ?? 0}`,
      ...(options.serverPid ? [`-server-pid=${options.serverPid}`] : []),
    ],
    options,
  );
  return JSON.parse(output) as LoadResult;
}

/** Makes one call and returns the reply messages' bytes (one for unary). */
export async function fetchReplies(binary: string, options: LoadOptions): Promise<Buffer[]> {
  const output = await execute(binary, [...commonArgs(options), '-connections=1', '-dump'], options);
  return output
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => Buffer.from(line, 'hex'));
}

function commonArgs(options: LoadOptions): string[] {
  const args = [
    `-target=${options.target}`,
    `-kind=${options.kind ?? 'unary'}`,
    `-tls=${options.tls}`,
    `-ca=${options.certs.caCert}`,
    `-cert=${options.certs.clients.alice.cert}`,
    `-key=${options.certs.clients.alice.key}`,
  ];
  if (options.method) args.push(`-method=${options.method}`);
  if (options.request) args.push(`-request=${options.request.toString('hex')}`);
  return args;
}

function execute(binary: string, args: string[], { cpu, token }: LoadOptions): Promise<string> {
  const [command, argv] = cpu === undefined ? [binary, args] : ['taskset', ['-c', String(cpu), binary, ...args]];
  return new Promise((resolve, reject) => {
    // The token goes through the environment, so it never shows in a process listing.
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOAD_CLIENT_TOKEN: token ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`load client exited ${code}: ${stderr.trim().slice(0, 2000)}`))));
  });
}
