import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';

/** Debian's PostgreSQL 15 (package postgresql-15, installed by .ci/install-system-deps.sh). */
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

/** PostgreSQL refuses to run as root; tests run it as this unprivileged user. */
const RUN_AS = { uid: 65534, gid: 65534 };

/** A real PostgreSQL server in a temporary directory, for tests and benchmarks. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/gatehouse` (the superuser is trusted on loopback; other roles need their password). */
  readonly url: string;
  readonly port: number;
  /** Stops the server (fast shutdown: sessions are ended, committed data stays). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Runs SQL through psql as `postgres` (in `database`, default `gatehouse`), returns its unaligned output. */
  psql(sql: string, database?: string): string;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

/** Options for {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Keep fsync on (benchmarks); tests turn it off for speed. Default false. */
  fsync?: boolean;
  /** max_connections. Default 100. */
  maxConnections?: number;
}

/**
 * initdb + postgres as `nobody`, with data and the unix socket in a fresh
 * temporary directory and TCP on a free loopback port. Resolves once the server
 * accepts connections and the `gatehouse` database exists.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  if (!existsSync(join(POSTGRES_BIN, 'postgres')))
    throw new Error(`PostgreSQL 15 is not installed (${POSTGRES_BIN}); run .ci/install-system-deps.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'));
  const data = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  mkdirSync(data);
  mkdirSync(socketDir);
  for (const path of [dir, data, socketDir]) chownSync(path, RUN_AS.uid, RUN_AS.gid);
  // setpriv execs the program itself (runuser would stay in between and swallow signals), so kill() reaches postgres.
  const asUser = (command: string, args: string[]) => [
    `--reuid=${RUN_AS.uid}`,
    `--regid=${RUN_AS.gid}`,
    '--clear-groups',
    join(POSTGRES_BIN, command),
    ...args,
  ];
  execFileSync('setpriv', asUser('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']), {
    stdio: 'pipe',
  });
  // The superuser `postgres` is trusted on loopback (tests and psql); any other role must give its password, so
  // tests of credentials really test them.
  writeFileSync(
    join(data, 'pg_hba.conf'),
    ['local all all trust', 'host all postgres 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n'),
  );
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = '';

  const start = async () => {
    child = spawn(
      'setpriv',
      asUser('postgres', [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        socketDir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `fsync=${options.fsync ? 'on' : 'off'}`,
        '-c',
        'synchronous_commit=on',
        '-c',
        `max_connections=${options.maxConnections ?? 100}`,
      ]),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const stream of [child.stdout!, child.stderr!])
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        log = (log + chunk).slice(-20_000);
      });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        execFileSync(join(POSTGRES_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'ignore' });
        return;
      } catch {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start:\n${log}`);
        await sleep(50);
      }
    }
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    // SIGINT is PostgreSQL's "fast" shutdown: sessions end, committed data is kept.
    running.kill('SIGINT');
    await exited;
  };
  const psql = (sql: string, database = 'gatehouse') =>
    execFileSync(
      join(POSTGRES_BIN, 'psql'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      { encoding: 'utf8' },
    );

  await start();
  execFileSync(join(POSTGRES_BIN, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'gatehouse'], { stdio: 'pipe' });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/gatehouse`,
    port,
    stop,
    start,
    psql,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
