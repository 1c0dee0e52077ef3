/**
 * `npx tsx bench/logger.bench.ts [--lines 200000] [--batch 50] [--rounds 3]`
 *
 * Should the access log move to pino? Writes the same access-log lines (the fields interceptors/access-log.ts
 * builds for a call) through Gatehouse's JSON logger (src/logging/logger.ts on its batched stdout writer,
 * src/logging/batched-stdout.ts) and through pino with the same redaction, and prints for each the CPU time per
 * line (ns, wall clock of a tight loop including the final flush) and the JS heap bytes allocated per line.
 *
 * Same redaction in pino: the secret field names as `redact` paths (top level and one level down; pino matches
 * exact paths, where the logger matches the names case-insensitively at any depth), the message through the
 * logger's own `redactText` in a `logMethod` hook, and string values through `redactText` and `boundText` in
 * `formatters.log` when they may hold a secret or are long, as the logger's fast path decides. Same line shape:
 * `time` as ISO text, `level` as a name, `msg`, no pid or hostname.
 *
 * pino runs three ways: `pino` on its asynchronous buffered destination (sonic-boom, `sync: false`), the
 * counterpart of the batched writer; `pino-top` the same with the secret names redacted at the top level only (pino's
 * `*.name` wildcard paths are what cost most; access lines are flat, but an `error` field is not); and `pino-sync`
 * on pino's default destination (one write per line).
 *
 * Each implementation runs in its own child process (fresh JIT and heap), alternating, `rounds` times; output
 * goes to /dev/null (the child's stdout), results come back on its stderr. Allocation is the growth of V8's used
 * heap plus what every garbage collection in between freed (v8.GCProfiler); buffers outside the heap (the
 * writes themselves) are not counted. Two workloads: an OK call's line, and a failed call's line whose details
 * carry a bearer token (the redaction path).
 */
import { spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GCProfiler } from 'node:v8';
import { pino } from 'pino';
import { boundText } from '../interceptors/bounded-text.js';
import { createLogger, MAX_LOG_VALUE_BYTES, mayHoldSecret, redactText } from '../src/logging/logger.js';

type Impl = 'gatehouse' | 'pino' | 'pino-top' | 'pino-sync';
const IMPLS: readonly Impl[] = ['gatehouse', 'pino', 'pino-top', 'pino-sync'];
type Workload = 'ok' | 'secret';
/** What the child reports. */
interface Result {
  impl: Impl;
  workload: Workload;
  nsPerLine: number;
  bytesPerLine: number;
}

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    child: { type: 'string' },
    workload: { type: 'string' },
    sample: { type: 'boolean', default: false },
  },
});
const LINES = Number(values.lines);
/** Lines written per turn of the event loop: calls ending together under load. */
const BATCH = Number(values.batch);

/** The fields interceptors/access-log.ts hands the sink for one call. */
function accessFields(i: number, workload: Workload): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    method: '/cheesefarm.v1.CheeseService/GetOrder',
    code: workload === 'ok' ? 'OK' : 'UNAUTHENTICATED',
    durationMs: 0.412 + (i % 100) / 1000,
    peerAddress: `127.0.0.1:${40000 + (i % 20000)}`,
    peer: 'spiffe://gatehouse.dev/client/alice',
    subject: 'spiffe://gatehouse.dev/client/alice',
    messagesIn: 1,
    messagesOut: workload === 'ok' ? 1 : 0,
    bytesIn: 38,
    bytesOut: workload === 'ok' ? 96 : 0,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  };
  if (workload === 'secret') fields.details = 'token refused: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl is expired';
  return fields;
}

/** Field names the logger never writes (its REDACTED_KEYS), as pino paths: top level and one level down. */
const SECRET_NAMES = [
  'authorization',
  'token',
  'access_token',
  'id_token',
  'password',
  'secret',
  'private_key',
  'privateKey',
  'key_pem',
  'keyPem',
  'cookie',
];
const REDACT_PATHS = [...SECRET_NAMES, ...SECRET_NAMES.map((name) => `*.${name}`)];

/** Pino configured to write what the Gatehouse logger writes; `topLevelOnly` redacts secret names at the top level only. */
function createPino(destination: pino.DestinationStream, topLevelOnly = false): pino.Logger {
  return pino(
    {
      level: 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: topLevelOnly ? SECRET_NAMES : REDACT_PATHS, censor: '[REDACTED]' },
      formatters: {
        level: (label) => ({ level: label }),
        log(object) {
          for (const key in object) {
            const value = object[key];
            if (typeof value === 'string' && (mayHoldSecret(value) || value.length > MAX_LOG_VALUE_BYTES / 3)) {
              object[key] = boundText(redactText(value), MAX_LOG_VALUE_BYTES);
            }
          }
          return object;
        },
      },
      hooks: {
        logMethod(args, method) {
          const [fields, message] = args as [object, string];
          method.apply(this, [fields, typeof message === 'string' ? boundText(redactText(message), MAX_LOG_VALUE_BYTES) : message]);
        },
      },
    },
    destination,
  );
}

/** One line each implementation writes for the secret workload, to check the redaction is the same. */
function sampleLines(): { gatehouse: string; pino: string } {
  let gatehouse = '';
  createLogger({
    level: 'info',
    write: (line) => {
      gatehouse = line;
    },
    nowMs: () => 0,
  }).info('grpc call', accessFields(0, 'secret'));
  let pinoLine = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      pinoLine = String(chunk).trimEnd();
      done();
    },
  });
  createPino(sink).info(accessFields(0, 'secret'), 'grpc call');
  return { gatehouse, pino: pinoLine };
}

async function runChild(impl: Impl, workload: Workload): Promise<void> {
  let write: (fields: Record<string, unknown>) => void;
  let drain: () => Promise<void>;
  if (impl === 'gatehouse') {
    const logger = createLogger({ level: 'info' }); // the production sink: batched stdout
    write = (fields) => logger.info('grpc call', fields);
    drain = () => nextTurn().then(() => undefined);
  } else {
    // `pino`, `pino-top`: its asynchronous buffered destination, the counterpart of the batched writer;
    // `pino-sync`: pino's default destination, one write per line.
    const destination =
      impl === 'pino-sync' ? pino.destination({ dest: 1, sync: true }) : pino.destination({ dest: 1, sync: false, minLength: 4096 });
    const logger = createPino(destination, impl === 'pino-top');
    write = (fields) => logger.info(fields, 'grpc call');
    drain = () => new Promise<void>((resolve) => destination.flush(() => resolve()));
  }
  const fields = Array.from({ length: 1000 }, (_, i) => accessFields(i, workload));
  // Warm up the JIT on the same code path, then measure.
  for (let i = 0; i < 20_000; i++) write(fields[i % fields.length]!);
  await drain();
  const profiler = new GCProfiler();
  profiler.start();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  for (let i = 0; i < LINES; i++) {
    write(fields[i % fields.length]!);
    // Let the batch go out every BATCH lines, as calls spread over turns of the event loop would.
    if (i % BATCH === BATCH - 1) await drain();
  }
  await drain();
  const elapsedNs = Number(process.hrtime.bigint() - started);
  const heapAfter = process.memoryUsage().heapUsed;
  const gcs = profiler.stop()?.statistics ?? [];
  let freed = 0;
  for (const gc of gcs) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
  const result: Result = { impl, workload, nsPerLine: elapsedNs / LINES, bytesPerLine: (heapAfter - heapBefore + freed) / LINES };
  process.stderr.write(`${JSON.stringify(result)}\n`);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function main(): void {
  const rounds = Number(values.rounds);
  const devNull = openSync('/dev/null', 'w');
  const self = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const workload of ['ok', 'secret'] as const) {
      for (const impl of round % 2 === 0 ? IMPLS : [...IMPLS].reverse()) {
        const args = ['--import', 'tsx', self, '--child', impl, '--workload', workload, '--lines', String(LINES), '--batch', String(BATCH)];
        const child = spawnSync(process.execPath, args, {
          stdio: ['ignore', devNull, 'pipe'],
          encoding: 'utf8',
          timeout: 120_000,
        });
        const line = child.stderr.split('\n').find((l) => l.startsWith('{'));
        if (child.status !== 0 || line === undefined) throw new Error(`${impl}/${workload} failed (${child.status}): ${child.stderr.slice(0, 2000)}`);
        results.push(JSON.parse(line) as Result);
      }
    }
  }
  const samples = sampleLines();
  console.log(
    `Logger benchmark: ${LINES} access lines per run, ${BATCH} per turn of the event loop, ${rounds} runs each, medians (Node ${process.version})`,
  );
  console.log('workload  implementation  ns/line  heap bytes/line');
  for (const workload of ['ok', 'secret'] as const) {
    for (const impl of IMPLS) {
      const mine = results.filter((r) => r.impl === impl && r.workload === workload);
      const ns = median(mine.map((r) => r.nsPerLine));
      const bytes = median(mine.map((r) => r.bytesPerLine));
      console.log(`${workload.padEnd(9)} ${impl.padEnd(15)} ${ns.toFixed(0).padStart(7)}  ${bytes.toFixed(0).padStart(15)}`);
    }
  }
  console.log('\nThe secret workload, one line each (time fixed for gatehouse):');
  console.log(`  gatehouse: ${samples.gatehouse}`);
  console.log(`  pino:      ${samples.pino}`);
}

if (values.child !== undefined) await runChild(values.child as Impl, (values.workload ?? 'ok') as Workload);
else main();
