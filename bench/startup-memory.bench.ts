/**
 * Start-up time and memory of a real gateway process, compiled (`node dist/...`) against TypeScript under tsx, with
 * and without the speech engines, in one run:
 *   - time from spawning the process to "listening", to each service SERVING on the health-only port, and to the
 *     first answered call of each service (cheese ListOrders, health Check, TTS Synthesize, STT Recognize);
 *   - CPU time the process used until every service served (what start-up costs, whatever else the machine does);
 *   - resident memory (VmRSS of the one process: worker threads are in it) idle once every service serves, and the
 *     peak under load (concurrent calls to every enabled service);
 *   - what one more eSpeak, Flite or PocketSphinx worker thread costs (the difference between two runs).
 *
 * Run: npm run build && npx tsx bench/startup-memory.bench.ts [--variants compiled,tsx] [--configs none,tts,stt,both]
 *        [--load-seconds 4] [--concurrency 4] [--per-worker true]
 * Each run is a fresh process with --workers 1 (one process; `server.workers` N multiplies everything by N).
 */

import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { service as healthDefinition } from 'grpc-health-check';
import { makeTemporaryDevCertificates, type DevCertificateSet } from '../certs/dev-certificates.js';
import { callUnary, channelCredentials, createClient } from '../src/client/grpc-client.js';
import { devTokenFor, withBearerToken } from '../test/helpers/dev-token.js';
import { gatewayProcessEnv } from '../test/helpers/gateway-process.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    variants: { type: 'string', default: 'compiled,tsx' },
    configs: { type: 'string', default: 'none,tts,stt,both' },
    'load-seconds': { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '4' },
    'per-worker': { type: 'string', default: 'true' },
    'timeout-seconds': { type: 'string', default: '90' },
  },
});
const LOAD_MS = Number(args['load-seconds']) * 1000;
const CONCURRENCY = Number(args.concurrency);
const TIMEOUT_MS = Number(args['timeout-seconds']) * 1000;

const SERVICES = { cheese: 'cheesefarm.v1.CheeseService', tts: 'gatehouse.tts.v1.TextToSpeech', stt: 'gatehouse.stt.v1.SpeechToText' } as const;
type Variant = 'compiled' | 'tsx';

/** One configuration to measure: which engines, how many worker threads each. */
interface RunSpec {
  name: string;
  tts: boolean;
  stt: boolean;
  /** Environment overrides (worker counts); default the counts of config/default.yaml. */
  env?: Record<string, string>;
}

interface RunResult {
  spec: RunSpec;
  variant: Variant;
  listeningMs: number;
  servingMs: Partial<Record<keyof typeof SERVICES | 'health', number>>;
  firstCallMs: Partial<Record<keyof typeof SERVICES | 'health', number>>;
  /** CPU time the process used until every service served, in ms. */
  readyCpuMs: number;
  idleRssMb: number;
  loadRssMb: number;
  loadCalls: number;
  /** Calls refused under load (a full queue), not counted in loadCalls. */
  loadFailures: number;
}

const GOFORWARD = '/usr/share/pocketsphinx/test/data/goforward.raw';
const SENTENCE = 'Please transfer one thousand dollars to Alice before Friday.';

/** CPU time (user + system, all threads) a process has used so far, in ms: start-up cost that a busy machine does not inflate. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  // After the command name: state is field 3, so utime (14) and stime (15) are at indices 11 and 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}
/** USER_HZ, 100 on Linux x86_64 and arm64. */
const CLOCK_TICKS_PER_SECOND = 100;

/** VmRSS of a process, in MB (the process's threads included). */
function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

function command(variant: Variant): string[] {
  return variant === 'compiled'
    ? ['dist/src/cli/gatehouse.js', 'serve', '--workers', '1']
    : ['--import', 'tsx', 'src/cli/gatehouse.ts', 'serve', '--workers', '1'];
}

async function measure(spec: RunSpec, variant: Variant, certs: DevCertificateSet, token: string): Promise<RunResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const started = performance.now();
  const child = spawn(process.execPath, command(variant), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...gatewayProcessEnv(certs, join(dataDir, 'gatehouse.db')),
      // "listening" is an info line; the access log would only add a line per call.
      GATEHOUSE_LOGGING__LEVEL: 'info',
      GATEHOUSE_LOGGING__ACCESS_LOG: 'false',
      GATEHOUSE_TTS__ENABLED: String(spec.tts),
      GATEHOUSE_STT__ENABLED: String(spec.stt),
      ...spec.env,
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output: string[] = [];
  const listening = new Promise<{ grpcPort: number; healthPort: number }>((resolve, reject) => {
    let buffered = '';
    const onData = (data: Buffer) => {
      buffered += data.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        output.push(line);
        if (line.includes('"msg":"listening"')) resolve(JSON.parse(line) as { grpcPort: number; healthPort: number });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`gateway exited before listening:\n${output.join('\n')}`)));
  });
  const clients: grpc.Client[] = [];
  try {
    const ports = await Promise.race([
      listening,
      sleep(TIMEOUT_MS, undefined, { ref: false }).then(() => {
        throw new Error(`no "listening" line:\n${output.join('\n')}`);
      }),
    ]);
    const listeningMs = performance.now() - started;
    const target = `127.0.0.1:${ports.grpcPort}`;
    const credentials = withBearerToken(
      channelCredentials({ caFile: certs.caCert, certFile: certs.clients.alice.cert, keyFile: certs.clients.alice.key }),
      token,
    );
    const client = (name: string) => {
      // The certificate names localhost; naming it avoids Node's warning about an IP address as TLS server name.
      const c = createClient(name, target, credentials, { 'grpc.ssl_target_name_override': 'localhost' });
      clients.push(c);
      return c;
    };
    const Health = grpc.makeClientConstructor(healthDefinition as grpc.ServiceDefinition, 'Health');
    const health = new Health(`127.0.0.1:${ports.healthPort}`, grpc.credentials.createInsecure());
    clients.push(health);
    const cheese = client(SERVICES.cheese);
    const tts = spec.tts ? client(SERVICES.tts) : undefined;
    const stt = spec.stt ? client(SERVICES.stt) : undefined;
    const audio = spec.stt ? readFileSync(GOFORWARD) : Buffer.alloc(0);
    const calls: Partial<Record<keyof typeof SERVICES | 'health', () => Promise<unknown>>> = {
      health: () => callUnary(health, 'check', { service: '' }, { deadline: 2000 }),
      cheese: () => callUnary(cheese, 'listOrders', { pageSize: 1 }, { deadline: 2000 }),
      ...(tts ? { tts: () => callUnary(tts, 'synthesize', { input: { text: SENTENCE }, voice: { name: 'en-US' } }, { deadline: 10_000 }) } : {}),
      ...(stt
        ? {
            stt: () =>
              callUnary(
                stt,
                'recognize',
                { config: { encoding: 'LINEAR16', sampleRateHertz: 16000 }, audio: { content: audio } },
                { deadline: 20_000 },
              ),
          }
        : {}),
    };

    // Each service: poll health until SERVING, and retry its call until it is answered with OK.
    const servingMs: RunResult['servingMs'] = {};
    const firstCallMs: RunResult['firstCallMs'] = {};
    const giveUpAt = started + TIMEOUT_MS;
    const untilOk = async (fn: () => Promise<unknown>): Promise<number> => {
      for (;;) {
        try {
          await fn();
          return performance.now() - started;
        } catch (error) {
          if (performance.now() > giveUpAt) throw error;
          await sleep(20);
        }
      }
    };
    const serving = (service: string) =>
      untilOk(async () => {
        const reply = await callUnary<{ status: string | number }>(health, 'check', { service }, { deadline: 1000 });
        if (reply.status !== 'SERVING' && reply.status !== 1) throw new Error(`${service} is ${reply.status}`);
      });
    await Promise.all([
      ...Object.entries(calls).map(async ([key, fn]) => {
        firstCallMs[key as keyof typeof firstCallMs] = await untilOk(fn);
      }),
      serving('').then((ms) => {
        servingMs.health = ms;
      }),
      ...(['cheese', 'tts', 'stt'] as const)
        .filter((k) => k === 'cheese' || spec[k])
        .map(async (k) => {
          servingMs[k] = await serving(SERVICES[k]);
        }),
    ]);

    const readyCpuMs = cpuMs(child.pid!);
    // Idle: after the warm-up's garbage has had a moment to go.
    await sleep(1500);
    const idleRssMb = rssMb(child.pid!);

    // Load: CONCURRENCY callers per enabled service for LOAD_MS, RSS sampled every 100 ms.
    let loadRssMb = idleRssMb;
    let loadCalls = 0;
    let loadFailures = 0;
    const loadEnd = performance.now() + LOAD_MS;
    const sampler = setInterval(() => {
      loadRssMb = Math.max(loadRssMb, rssMb(child.pid!));
    }, 100);
    const order = () => callUnary(cheese, 'order', { type: 'BRIE', age: 12, idempotencyKey: `bench-${Math.random()}` }, { deadline: 5000 });
    const loadFns = [order, calls.tts, calls.stt].filter((fn): fn is () => Promise<unknown> => fn !== undefined);
    await Promise.all(
      loadFns.flatMap((fn) =>
        Array.from({ length: CONCURRENCY }, async () => {
          while (performance.now() < loadEnd) {
            // A full decoder queue (RESOURCE_EXHAUSTED) is an answer too; only memory is measured here.
            await fn().then(
              () => {
                loadCalls++;
              },
              () => {
                loadFailures++;
              },
            );
          }
        }),
      ),
    );
    clearInterval(sampler);
    loadRssMb = Math.max(loadRssMb, rssMb(child.pid!));
    return { spec, variant, listeningMs, servingMs, firstCallMs, readyCpuMs, idleRssMb, loadRssMb, loadCalls, loadFailures };
  } finally {
    for (const c of clients) c.close();
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const fmtMs = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
const fmtMb = (mb: number) => `${Math.round(mb)} MB`;

async function main(): Promise<void> {
  const variants = args.variants.split(',') as Variant[];
  if (variants.includes('compiled') && !existsSync(join(ROOT, 'dist/src/cli/gatehouse.js'))) {
    throw new Error('no compiled build: run `npm run build` first');
  }
  const certs = makeTemporaryDevCertificates();
  const token = devTokenFor(certs, 'alice');
  const configs: Record<string, RunSpec> = {
    none: { name: 'no speech', tts: false, stt: false },
    tts: { name: 'TTS', tts: true, stt: false },
    stt: { name: 'STT', tts: false, stt: true },
    both: { name: 'TTS + STT', tts: true, stt: true },
  };
  const main = args.configs.split(',').map(
    (name) =>
      configs[name] ??
      (() => {
        throw new Error(`--configs: unknown ${name}; known: ${Object.keys(configs).join(',')}`);
      })(),
  );
  console.log(`Node.js ${process.version}; one process (--workers 1); default worker threads: tts.workers 2, tts.flite.workers 1, stt.workers 2`);
  console.log(`load: ${CONCURRENCY} concurrent callers per enabled service for ${LOAD_MS / 1000} s\n`);
  const results: RunResult[] = [];
  const header =
    'variant   config       listening  cheese SERVING/1st call  health 1st  TTS SERVING/1st call  STT SERVING/1st call  CPU to ready  RSS idle  RSS load  calls';
  console.log(header);
  const print = (r: RunResult) =>
    console.log(
      [
        r.variant.padEnd(9),
        r.spec.name.padEnd(12),
        fmtMs(r.listeningMs).padStart(9),
        `${fmtMs(r.servingMs.cheese)} / ${fmtMs(r.firstCallMs.cheese)}`.padStart(24),
        fmtMs(r.firstCallMs.health).padStart(10),
        `${fmtMs(r.servingMs.tts)} / ${fmtMs(r.firstCallMs.tts)}`.padStart(21),
        `${fmtMs(r.servingMs.stt)} / ${fmtMs(r.firstCallMs.stt)}`.padStart(21),
        fmtMs(r.readyCpuMs).padStart(12),
        fmtMb(r.idleRssMb).padStart(8),
        fmtMb(r.loadRssMb).padStart(9),
        `${r.loadCalls}${r.loadFailures ? ` (+${r.loadFailures} refused)` : ''}`.padStart(6),
      ].join(' '),
    );
  try {
    for (const spec of main) {
      for (const variant of variants) {
        const result = await measure(spec, variant, certs, token);
        results.push(result);
        print(result);
      }
    }
    if (args['per-worker'] === 'true') {
      const variant = variants[0]!;
      console.log(`\nWhat one more worker thread costs (${variant}; difference of idle and load RSS between two runs):`);
      const pairs: [string, RunSpec, RunSpec][] = [
        [
          'eSpeak NG (tts.workers)',
          { name: 'TTS e1 f1', tts: true, stt: false, env: { GATEHOUSE_TTS__WORKERS: '1', GATEHOUSE_TTS__FLITE__WORKERS: '1' } },
          { name: 'TTS e2 f1', tts: true, stt: false, env: { GATEHOUSE_TTS__WORKERS: '2', GATEHOUSE_TTS__FLITE__WORKERS: '1' } },
        ],
        [
          'Flite (tts.flite.workers)',
          { name: 'TTS e1 f1', tts: true, stt: false, env: { GATEHOUSE_TTS__WORKERS: '1', GATEHOUSE_TTS__FLITE__WORKERS: '1' } },
          { name: 'TTS e1 f2', tts: true, stt: false, env: { GATEHOUSE_TTS__WORKERS: '1', GATEHOUSE_TTS__FLITE__WORKERS: '2' } },
        ],
        [
          'PocketSphinx (stt.workers)',
          { name: 'STT 1', tts: false, stt: true, env: { GATEHOUSE_STT__WORKERS: '1' } },
          { name: 'STT 2', tts: false, stt: true, env: { GATEHOUSE_STT__WORKERS: '2' } },
        ],
      ];
      const cache = new Map<string, RunResult>();
      const run = async (spec: RunSpec) => {
        const cached = cache.get(spec.name);
        if (cached) return cached;
        const result = await measure(spec, variant, certs, token);
        cache.set(spec.name, result);
        print(result);
        return result;
      };
      const lines: string[] = [];
      for (const [label, one, two] of pairs) {
        const a = await run(one);
        const b = await run(two);
        lines.push(`  ${label.padEnd(28)} +${fmtMb(b.idleRssMb - a.idleRssMb)} idle, +${fmtMb(b.loadRssMb - a.loadRssMb)} under load`);
      }
      console.log(lines.join('\n'));
    }
  } finally {
    rmSync(certs.dir, { recursive: true, force: true });
  }
}

await main();
