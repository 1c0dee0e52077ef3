/**
 * One server under test as its own process, optionally pinned to one core:
 * started fresh for each measurement, ready when it prints its port on fd 3,
 * observed through /proc (CPU ticks, resident memory), stopped by SIGTERM.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

/** A command that starts a server and announces `{"port": N, ...}` on fd 3. */
export interface ServerCommand {
  command: string;
  args: string[];
  /** Working directory; default this process's. */
  cwd?: string;
}

/** A running server process. */
export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  /** Everything its ready line said (the gateway names services that failed to warm up). */
  readonly ready: Record<string, unknown>;
  /** Where its stdout and stderr go. */
  readonly logFile: string;
  /** Resident set size now, in bytes (VmRSS). */
  rssBytes(): number;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startServerProcess}. */
export interface StartOptions {
  /** Pin to this CPU with taskset; default unpinned. */
  cpu?: number;
  /** File that receives the server's stdout and stderr (its log). */
  logFile: string;
  /** Give up when no ready line came within this many milliseconds. Default 120000. */
  readyTimeoutMs?: number;
  /** Called right after the spawn, before it is ready, with a function that kills it: so an interrupted run leaves nothing behind. */
  onSpawn?: (kill: () => Promise<void>) => void;
}

/** Starts `server` and resolves once it announced its port; rejects (and kills it) if it exits or times out first. */
export async function startServerProcess(server: ServerCommand, options: StartOptions): Promise<ServerProcess> {
  const log = openSync(options.logFile, 'a');
  // taskset execs the server, so the child's pid is the server's own and /proc/<pid> describes it.
  const [command, args] =
    options.cpu === undefined ? [server.command, server.args] : ['taskset', ['-c', String(options.cpu), server.command, ...server.args]];
  const child = spawn(command, args, { stdio: ['ignore', log, log, 'pipe'], cwd: server.cwd });
  closeSync(log);
  options.onSpawn?.(() => stop(child, 1000));
  try {
    const ready = await readyLine(child, options.readyTimeoutMs ?? 120_000, options.logFile);
    return {
      pid: child.pid!,
      port: Number(ready.port),
      ready,
      logFile: options.logFile,
      rssBytes: () => readRssBytes(child.pid!),
      stop: (graceMs = 5000) => stop(child, graceMs),
    };
  } catch (error) {
    await stop(child, 0);
    throw error;
  }
}

async function readyLine(child: ChildProcess, timeoutMs: number, logFile: string): Promise<Record<string, unknown>> {
  const pipe = child.stdio[3] as Readable;
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready within ${timeoutMs} ms; see ${logFile}`)), timeoutMs);
    pipe.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(text.slice(0, end)) as Record<string, unknown>);
      } catch {
        reject(new Error(`server announced something that is not JSON: ${text.slice(0, 200)}`));
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? code}) before it was ready; see ${logFile}`));
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function stop(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** VmRSS of a process, in bytes. */
export function readRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`/proc/${pid}/status has no VmRSS`);
  return Number(match[1]) * 1024;
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux). */
export function clockTicksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return clockTicks;
}
