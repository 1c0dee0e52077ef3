/**
 * `npx tsx bench/external/run.ts [flags]` (or `npm run bench:external -- [flags]`): the external benchmark.
 *
 * Gatehouse measured from outside, the way an operator would: a Go gRPC client (load-client/main.go, mTLS with
 * alice's development certificate, a development bearer token and a fresh traceparent on every call) in its own
 * process pinned to one core, each server in its own process pinned to the other, a fresh server process for
 * each server in each round (its loaded, one-call and stream windows run on it in turn), the servers interleaved
 * round after round, and each ratio to the bare server taken within a
 * round. Servers: bare grpc-js, Gatehouse with the whole chain as config/default.yaml builds it (speech
 * recognition and Flite off, eSpeak with one worker thread, so ListVoices is served), Gatehouse with no
 * interceptor and with each layer alone, and Python grpcio (sync, Debian's python3-grpcio) over mTLS and
 * plaintext. Every server answers ListVoices(language_code: "ru") with the same bytes: the reply the gateway
 * itself gave, fetched first.
 *
 * Per server: calls/s, server CPU per call (utime + stime of the server process over the measured window, from
 * /proc, divided by the OK calls), p50/p99 under load and with one call in flight, RSS idle and after load;
 * bare and the whole chain also on a 10-message server stream (bench-stream-service.ts says why a bench-only
 * service). h2load cross-checks the Go client on the plaintext Python server. Any non-OK call fails the run.
 *
 * Flags: --rounds 3, --seconds 5 (loaded window; 2 s windows proved too noisy on a 2-core VM), --latency-seconds 5, --stream-seconds 5, --warmup-seconds 0.5,
 * --connections 10, --inflight 10 (per connection), --servers bare,gateway,... (names, or `layers`; default all),
 * --client-cpu 0, --server-cpu 1, --no-pin (run unpinned, e.g. on one core), --profile DIR (each Node server writes a
 * V8 CPU profile there; profiling slows it, so its figures are not comparable), --json FILE (default: a file in
 * node_modules/.cache/gatehouse-bench/). Time goes mostly to starting the gateway processes: one round of all
 * servers took 195 s on a busy 2-core machine; --rounds and --servers shorten it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_STREAM_MESSAGES, BENCH_STREAM_METHOD } from './bench-stream-service.js';
import { benchToken, makeBenchFiles } from './bench-files.js';
import { runH2load } from './h2load.js';
import { BENCH_CACHE_DIR, buildLoadClient, runLoad, type LoadOptions } from './load-client.js';
import { captureReply, LIST_VOICES, LIST_VOICES_RU } from './reply-capture.js';
import { formatReport, summarize, type Sample } from './report.js';
import { clockTicksPerSecond, startServerProcess, type ServerProcess } from './server-process.js';
import { DEBIAN_PYTHON, allServers, selectServers, type RunFiles, type ServerSpec } from './servers.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    'latency-seconds': { type: 'string', default: '5' },
    'stream-seconds': { type: 'string', default: '5' },
    'warmup-seconds': { type: 'string', default: '0.5' },
    connections: { type: 'string', default: '10' },
    inflight: { type: 'string', default: '10' },
    servers: { type: 'string' },
    'client-cpu': { type: 'string', default: '0' },
    'server-cpu': { type: 'string', default: '1' },
    'no-pin': { type: 'boolean', default: false },
    json: { type: 'string' },
    profile: { type: 'string' },
  },
});
const rounds = Number(flags.rounds);
if (flags.profile) process.env.GATEHOUSE_BENCH_PROFILE_DIR = flags.profile; // servers.ts adds --cpu-prof for Node servers
const ms = (name: 'seconds' | 'latency-seconds' | 'stream-seconds' | 'warmup-seconds') => Math.round(Number(flags[name]) * 1000);
const pin = !flags['no-pin'];
const clientCpu = pin ? Number(flags['client-cpu']) : undefined;
const serverCpu = pin ? Number(flags['server-cpu']) : undefined;
if (pin && availableParallelism() < 2) throw new Error('the client and the server need a core each; on one core run with --no-pin');
const servers = selectServers(flags.servers);
if (!servers.some((server) => server.name === 'bare')) servers.unshift(allServers()[0]!); // ratios need it

const startedAt = performance.now();
const cores = availableParallelism(); // before pinning this process, which narrows what it reports
// This process only waits while measuring; keeping it on the client's core leaves the server's core to the server.
if (clientCpu !== undefined) execFileSync('taskset', ['-a', '-p', '-c', String(clientCpu), String(process.pid)], { stdio: 'ignore' });
const files = makeBenchFiles();
const token = benchToken(files);
const run: RunFiles = { dir: files.dir, replyFile: join(files.dir, 'list-voices-ru.bin'), streamReplyFile: join(files.dir, 'stream-message.bin') };
// Server logs (the access log among them: stdout is a file, as a container runtime would keep it) outlive the run
// only when something failed, so the error can point at them.
const logDir = join(BENCH_CACHE_DIR, `logs-${process.pid}`);
mkdirSync(logDir, { recursive: true });
process.on('exit', (code) => {
  rmSync(files.dir, { recursive: true, force: true });
  if (code === 0 && !process.env.GATEHOUSE_BENCH_KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  else console.error(`server logs kept in ${logDir}`);
});

// Ctrl-C or SIGTERM mid-run must not leave a pinned server running, even one still starting: stop it, then exit.
let stopCurrent: (() => Promise<void>) | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.exitCode = 130;
    void (stopCurrent?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

console.log(headline());
const binary = buildLoadClient();

// The reply every server gives is the gateway's own: fetch it once from a gateway with the whole chain.
{
  const gateway = servers.find((s) => s.name === 'gateway') ?? allServers()[1]!;
  const server = await start(gateway, 'capture', { ...run, streamReplyFile: '/dev/null' });
  try {
    const bytes = await captureReply(binary, server, files, token, run);
    console.log(`ListVoices(language_code: "ru") reply: ${bytes} bytes; every server sends these bytes`);
  } finally {
    await server.stop();
  }
}

const samples: Sample[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const spec of servers) {
    const sample = await measure(spec, round);
    samples.push(sample);
    const bad = [sample.loaded, sample.latency, sample.stream].some((r) => r && r.ok !== r.calls);
    console.log(
      `round ${round}/${rounds} ${spec.name.padEnd(22)} ${Math.round(sample.loaded.callsPerSec).toString().padStart(6)} calls/s` +
        (sample.stream ? `, ${Math.round(sample.stream.callsPerSec)} streams/s` : '') +
        (bad ? '  NOT OK (see report)' : ''),
    );
  }
}

const summaries = summarize(samples, servers, clockTicksPerSecond());
console.log(`\n${formatReport(summaries)}`);
const elapsedSec = Math.round((performance.now() - startedAt) / 1000);
console.log(`\n${rounds} rounds, ${servers.length} servers, ${elapsedSec} s in all; load average now ${loadavg()[0]!.toFixed(2)}`);
if (summaries.some((s) => s.serverCpuShare.median < 0.9)) {
  console.log(
    'note: some servers used less than 90% of their core under load: other processes took it (shared machine?) or the server waits on something',
  );
}
const jsonFile = flags.json ?? join(BENCH_CACHE_DIR, `external-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(jsonFile, JSON.stringify({ headline: headline(), flags, summaries, samples }, null, 2) + '\n');
console.log(`figures and every sample: ${jsonFile}`);
if (summaries.some((s) => Object.keys(s.errors).length > 0)) process.exitCode = 1;

/** One fresh server process: idle memory, then loaded unary, one call in flight, the stream, h2load; then memory again. */
async function measure(spec: ServerSpec, round: number): Promise<Sample> {
  const server = await start(spec, `round${round}`, run);
  try {
    const rssIdleBytes = server.rssBytes();
    const base: LoadOptions = {
      target: `127.0.0.1:${server.port}`,
      tls: spec.tls,
      certs: files.certs,
      token,
      cpu: clientCpu,
      serverPid: server.pid,
      method: LIST_VOICES,
      request: LIST_VOICES_RU,
      warmupMs: ms('warmup-seconds'),
    };
    const connections = Number(flags.connections);
    const inflight = Number(flags.inflight);
    const loaded = await runLoad(binary, { ...base, connections, inflight, durationMs: ms('seconds') });
    const latency = spec.latency ? await runLoad(binary, { ...base, connections: 1, inflight: 1, durationMs: ms('latency-seconds') }) : undefined;
    const stream = spec.stream
      ? await runLoad(binary, {
          ...base,
          kind: 'server-stream',
          method: BENCH_STREAM_METHOD,
          expectMessages: BENCH_STREAM_MESSAGES,
          connections,
          inflight,
          durationMs: ms('stream-seconds'),
        })
      : undefined;
    const h2load = spec.h2load
      ? await runH2load({
          target: base.target,
          method: LIST_VOICES,
          request: LIST_VOICES_RU,
          token,
          connections,
          inflight,
          durationMs: ms('seconds'),
          warmupMs: ms('warmup-seconds'),
          cpu: clientCpu,
          dir: files.dir,
        })
      : undefined;
    const rssAfterBytes = server.rssBytes();
    await server.stop();
    if (!process.env.GATEHOUSE_BENCH_KEEP_LOGS && [loaded, latency, stream].every((r) => !r || r.ok === r.calls)) unlinkSync(server.logFile);
    return { round, server: spec.name, loaded, latency, stream, h2load, rssIdleBytes, rssAfterBytes };
  } finally {
    await server.stop();
  }
}

/** Starts a server pinned to the server core, its log in `logDir`; refuses one whose services did not all warm up. */
async function start(spec: ServerSpec, tag: string, runFiles: RunFiles): Promise<ServerProcess> {
  const logFile = join(logDir, `${spec.name.replace(':', '-')}-${tag}.log`);
  const server = await startServerProcess(spec.command(runFiles), {
    cpu: serverCpu,
    logFile,
    onSpawn: (kill) => {
      stopCurrent = kill;
    },
  });
  const notServing = (server.ready.notServing as string[] | undefined) ?? [];
  if (notServing.length > 0) {
    await server.stop();
    throw new Error(`${spec.name}: ${notServing.join(', ')} did not warm up; the benchmark needs ListVoices served`);
  }
  return server;
}

function headline(): string {
  const version = (command: string, args: string[]) => {
    try {
      return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .trim()
        .split('\n')[0];
    } catch {
      return 'missing';
    }
  };
  return [
    `external benchmark: ${rounds} rounds; loaded ${flags.connections} connections x ${flags.inflight} calls in flight for ${flags.seconds} s ` +
      `after ${flags['warmup-seconds']} s warm-up; one call in flight for ${flags['latency-seconds']} s; stream ${flags['stream-seconds']} s`,
    `machine: ${cores} cores (${cpus()[0]?.model ?? 'unknown'}); client on core ${clientCpu ?? 'any'}, server on core ${serverCpu ?? 'any'}`,
    `load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')} (above ~0.5 the machine is not quiet and figures move)`,
    `node ${process.version}, ${version('go', ['version'])}, grpcio ${version(DEBIAN_PYTHON, ['-c', 'import grpc; print(grpc.__version__)'])}, ${version('h2load', ['--version'])}`,
  ].join('\n');
}
