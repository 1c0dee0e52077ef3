/**
 * `npx tsx bench/upstream.bench.ts [flags]`: what routing a service through Gatehouse costs, measured from outside.
 *
 * One Go upstream (bench/upstream/echo-upstream/: any method answered from canned bytes, so the service costs next
 * to nothing) and one Gatehouse process routing helloworld.Greeter to it (bench/upstream/gateway-server.ts:
 * config/default.yaml's chain, access log on, speech off). The Go load client of the external benchmark
 * (bench/external/load-client/, raw bytes, a fresh traceparent per call) calls, in the same run and interleaved:
 * the upstream directly (plaintext, as a service inside the cluster is called), and the same upstream through the
 * gateway (mTLS with alice's certificate and a bearer token: what the gateway is for). Unary (SayHello) and a
 * 10-message server stream (SayHelloStreamReply), each unloaded (one call in flight: the latency the gateway adds)
 * and loaded (connections x in-flight calls: throughput and the gateway's CPU per call).
 *
 * Pinning on 2 cores: the gateway alone on --gateway-cpu (0); the load client and the upstream share
 * --client-cpu (1), in the direct runs too, so both runs give the client and the upstream the same core.
 *
 * Issue 16's aim: the gateway adds at most 0.3 ms to the unloaded p50 and keeps at least half the direct
 * throughput. Flags: --seconds 2 (each window), --warmup-seconds 0.3, --connections 4, --inflight 8,
 * --rounds 1, --kinds unary,server-stream, --gateway-cpu 0, --client-cpu 1, --no-pin. The default run takes about 25 s.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchToken, makeBenchFiles } from './external/bench-files.js';
import { buildGoProgram } from './external/go-build.js';
import { buildLoadClient, runLoad, type LoadOptions, type LoadResult } from './external/load-client.js';
import { clockTicksPerSecond, startServerProcess, type ServerProcess } from './external/server-process.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** HelloRequest{name: "bench"}. */
const HELLO_REQUEST = Buffer.from([0x0a, 5, ...Buffer.from('bench')]);
const STREAM_MESSAGES = 10;
const KINDS = [
  { kind: 'unary', method: '/helloworld.Greeter/SayHello', expectMessages: 1 },
  { kind: 'server-stream', method: '/helloworld.Greeter/SayHelloStreamReply', expectMessages: STREAM_MESSAGES },
] as const;

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    'warmup-seconds': { type: 'string', default: '0.3' },
    connections: { type: 'string', default: '4' },
    inflight: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '1' },
    kinds: { type: 'string', default: 'unary,server-stream' },
    'gateway-cpu': { type: 'string', default: '0' },
    'client-cpu': { type: 'string', default: '1' },
    'no-pin': { type: 'boolean', default: false },
  },
});
const pin = !flags['no-pin'];
if (pin && availableParallelism() < 2) throw new Error('the gateway and the client need a core each; on one core run with --no-pin');
const gatewayCpu = pin ? Number(flags['gateway-cpu']) : undefined;
const clientCpu = pin ? Number(flags['client-cpu']) : undefined;
const windowMs = Math.round(Number(flags.seconds) * 1000);
const warmupMs = Math.round(Number(flags['warmup-seconds']) * 1000);

const files = makeBenchFiles();
const running: ServerProcess[] = [];
const cleanUp = async () => {
  await Promise.allSettled(running.splice(0).map((server) => server.stop()));
  rmSync(files.dir, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

try {
  const descriptorSet = join(files.dir, 'helloworld.binpb');
  execFileSync('protoc', [
    `-I${join(ROOT, 'test/fixtures/upstream')}`,
    '--include_imports',
    `--descriptor_set_out=${descriptorSet}`,
    'helloworld.proto',
  ]);
  const client = buildLoadClient();
  const upstream = await startServerProcess(
    { command: buildGoProgram(join(ROOT, 'bench/upstream/echo-upstream')), args: [] },
    { cpu: clientCpu, logFile: join(files.dir, 'upstream.log') },
  );
  running.push(upstream);
  const gateway = await startServerProcess(
    {
      command: process.execPath,
      args: [
        '--import',
        'tsx',
        join(ROOT, 'bench/upstream/gateway-server.ts'),
        '--dir',
        files.dir,
        '--upstream',
        `127.0.0.1:${upstream.port}`,
        '--descriptor-set',
        descriptorSet,
      ],
      cwd: ROOT,
    },
    { cpu: gatewayCpu, logFile: join(files.dir, 'gateway.log') },
  );
  running.push(gateway);
  if (gateway.ready.routed !== 'SERVING') throw new Error(`the routed service is ${String(gateway.ready.routed)}; see ${gateway.logFile}`);
  const token = benchToken(files);
  const ticks = clockTicksPerSecond();

  const targets = {
    direct: { target: `127.0.0.1:${upstream.port}`, tls: 'plaintext' as const },
    gateway: { target: `127.0.0.1:${gateway.port}`, tls: 'mtls' as const, token, serverPid: gateway.pid },
  };
  const results: { kind: string; via: keyof typeof targets; unloaded: LoadResult; loaded: LoadResult }[] = [];
  for (let round = 0; round < Number(flags.rounds); round++) {
    for (const { kind, method, expectMessages } of KINDS.filter((k) => flags.kinds!.split(',').includes(k.kind))) {
      for (const via of ['direct', 'gateway'] as const) {
        const base: LoadOptions = {
          ...targets[via],
          method,
          request: HELLO_REQUEST,
          kind,
          certs: files.certs,
          cpu: clientCpu,
          warmupMs,
          durationMs: windowMs,
          expectMessages,
        };
        const unloaded = await runLoad(client, { ...base, connections: 1, inflight: 1 });
        const loaded = await runLoad(client, { ...base, connections: Number(flags.connections), inflight: Number(flags.inflight) });
        for (const result of [unloaded, loaded]) {
          if (result.ok !== result.calls) throw new Error(`${via} ${kind}: ${result.calls - result.ok} calls failed: ${result.firstError}`);
        }
        results.push({ kind, via, unloaded, loaded });
      }
    }
  }

  const rows = [['kind', 'via', 'unloaded p50 ms', 'unloaded p99 ms', 'loaded calls/s', 'loaded p50 ms', 'loaded p99 ms', 'gateway CPU/call us']];
  for (const r of results) {
    const cpuPerCall = r.loaded.serverCpuTicks === undefined ? '' : ((r.loaded.serverCpuTicks / ticks / r.loaded.ok) * 1e6).toFixed(0);
    rows.push([
      r.kind,
      r.via,
      r.unloaded.p50Ms.toFixed(3),
      r.unloaded.p99Ms.toFixed(3),
      r.loaded.callsPerSec.toFixed(0),
      r.loaded.p50Ms.toFixed(3),
      r.loaded.p99Ms.toFixed(3),
      cpuPerCall,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padStart(widths[i]!)).join('  '));
  console.log('');
  for (const { kind } of KINDS.filter((k) => results.some((r) => r.kind === k.kind))) {
    const pick = (via: 'direct' | 'gateway') => results.filter((r) => r.kind === kind && r.via === via);
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const added = median(pick('gateway').map((r) => r.unloaded.p50Ms)) - median(pick('direct').map((r) => r.unloaded.p50Ms));
    const kept = median(pick('gateway').map((r) => r.loaded.callsPerSec)) / median(pick('direct').map((r) => r.loaded.callsPerSec));
    console.log(
      `${kind}: the gateway adds ${added.toFixed(3)} ms to the unloaded p50 (aim <= 0.3) and keeps ${(kept * 100).toFixed(0)}% of the direct throughput (aim >= 50%)`,
    );
  }
  console.log(
    `pinning: ${pin ? `gateway on CPU ${gatewayCpu}, load client and upstream on CPU ${clientCpu}` : 'none'}; windows ${windowMs} ms after ${warmupMs} ms warm-up`,
  );
} finally {
  await cleanUp();
}
