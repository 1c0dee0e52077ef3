/**
 * `npx tsx bench/upstream.bench.ts [flags]`: what routing a service through Gatehouse costs, measured from outside.
 *
 * One upstream serving helloworld.Greeter (bench/upstream/bench-upstreams.ts), chosen with --upstream:
 * - `go` (default): bench/upstream/echo-upstream/, any method answered from canned bytes, so the service costs
 *   next to nothing and the figures isolate the gateway;
 * - `python`: bench/upstream/greeter_upstream.py, the tutorial's Greeter on Python grpcio (Debian python3-grpcio,
 *   sync server, protobuf per call): the kind of upstream issue 16 puts behind the gateway, so "keeps half the
 *   direct throughput" compares the gateway with a service that does real per-call work;
 * - `go,python`: both, one after the other, each with its own gateway process, table and summary lines.
 * For each, one Gatehouse process routes helloworld.Greeter to it (bench/upstream/gateway-server.ts:
 * config/default.yaml's chain, access log on, speech off). The Go load client of the external benchmark
 * (bench/external/load-client/, raw bytes, a fresh traceparent per call) calls, in the same run and interleaved:
 * the upstream directly (plaintext, as a service inside the cluster is called), and the same upstream through the
 * gateway (mTLS with alice's certificate and a bearer token: what the gateway is for). Unary (SayHello) and a
 * 10-message server stream (SayHelloStreamReply), each unloaded (one call in flight: the latency the gateway adds)
 * and loaded (connections x in-flight calls: throughput and the gateway's CPU per call). Two floors in the same
 * run put the gateway's figures in proportion: `bare`, a grpc-js server with no chain that forwards with the same
 * transport (bench/upstream/bare-forwarder.ts: what forwarding costs on grpc-js and node:http2 before any gateway
 * feature), and `hosted`, the gateway answering its own Health/Check (its chain without forwarding).
 *
 * Pinning on 2 cores: the gateway alone on --gateway-cpu (0); the load client and the upstream share
 * --client-cpu (1), in the direct runs too, so both runs give the client and the upstream the same core.
 *
 * Issue 16's aim: the gateway adds at most 0.3 ms to the unloaded p50 and keeps at least half the direct
 * throughput. Flags: --upstream go (go, python, or go,python), --seconds 2 (each window), --warmup-seconds 0.3,
 * --connections 4, --inflight 8, --rounds 1, --kinds unary,server-stream, --gateway-cpu 0, --client-cpu 1,
 * --no-pin, --profile DIR (a CPU profile of each gateway process). The default run takes about 35 s per upstream.
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchToken, makeBenchFiles } from './external/bench-files.js';
import { buildLoadClient, runLoad, type LoadOptions, type LoadResult } from './external/load-client.js';
import { clockTicksPerSecond, startServerProcess, type ServerProcess } from './external/server-process.js';
import { makeContractFiles, selectUpstreams, STREAM_MESSAGES, type BenchUpstream, type ContractFiles } from './upstream/bench-upstreams.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** HelloRequest{name: "bench"}. */
const HELLO_REQUEST = Buffer.from([0x0a, 5, ...Buffer.from('bench')]);
const KINDS = [
  { kind: 'unary', method: '/helloworld.Greeter/SayHello', expectMessages: 1 },
  { kind: 'server-stream', method: '/helloworld.Greeter/SayHelloStreamReply', expectMessages: STREAM_MESSAGES },
] as const;

const { values: flags } = parseArgs({
  options: {
    upstream: { type: 'string', default: 'go' },
    profile: { type: 'string' },
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
const upstreams = selectUpstreams(flags.upstream);
const pin = !flags['no-pin'];
if (pin && availableParallelism() < 2) throw new Error('the gateway and the client need a core each; on one core run with --no-pin');
const gatewayCpu = pin ? Number(flags['gateway-cpu']) : undefined;
const clientCpu = pin ? Number(flags['client-cpu']) : undefined;
const windowMs = Math.round(Number(flags.seconds) * 1000);
const warmupMs = Math.round(Number(flags['warmup-seconds']) * 1000);
const kinds = KINDS.filter((k) => flags.kinds.split(',').includes(k.kind));

const files = makeBenchFiles();
const running: ServerProcess[] = [];
const stopAll = () => Promise.allSettled(running.splice(0).map((server) => server.stop()));
const cleanUp = async () => {
  await stopAll();
  rmSync(files.dir, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

/**
 * `bare`: bench/upstream/bare-forwarder.ts, a grpc-js server with no chain forwarding with the gateway's exchange,
 * the floor of forwarding on Node.js. `hosted`: the gateway's own grpc.health.v1.Health/Check on the same gateway, the cost of a call before any forwarding. */
type Via = 'direct' | 'gateway' | 'bare' | 'hosted';
/** The hosted floor: a unary call the gateway answers itself, through the same TLS, token and chain. */
const HOSTED = { kind: 'unary', method: '/grpc.health.v1.Health/Check', request: Buffer.alloc(0), expectMessages: 1 } as const;
interface Measured {
  kind: string;
  via: Via;
  unloaded: LoadResult;
  loaded: LoadResult;
}

/** Starts `upstream` and a gateway routing to it (both on their cores), measures every kind both ways, stops both. */
async function measure(upstream: BenchUpstream, contracts: ContractFiles, client: string, token: string): Promise<Measured[]> {
  const server = await startServerProcess(upstream.command(contracts), { cpu: clientCpu, logFile: join(files.dir, `upstream-${upstream.name}.log`) });
  running.push(server);
  const gateway = await startServerProcess(
    {
      command: process.execPath,
      args: [
        // A CPU profile of the gateway per run (`--profile DIR`), to find where a routed call's time goes.
        ...(flags.profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${flags.profile}`] : []),
        '--import',
        'tsx',
        join(ROOT, 'bench/upstream/gateway-server.ts'),
        '--dir',
        files.dir,
        '--upstream',
        `127.0.0.1:${server.port}`,
        '--descriptor-set',
        contracts.descriptorSet,
      ],
      cwd: ROOT,
    },
    { cpu: gatewayCpu, logFile: join(files.dir, `gateway-${upstream.name}.log`) },
  );
  running.push(gateway);
  const bare = await startServerProcess(
    {
      command: process.execPath,
      args: ['--import', 'tsx', join(ROOT, 'bench/upstream/bare-forwarder.ts'), '--dir', files.dir, '--upstream', `127.0.0.1:${server.port}`],
      cwd: ROOT,
    },
    { cpu: gatewayCpu, logFile: join(files.dir, `bare-forwarder-${upstream.name}.log`) },
  );
  running.push(bare);
  if (gateway.ready.routed !== 'SERVING') throw new Error(`the routed service is ${String(gateway.ready.routed)}; see ${gateway.logFile}`);

  const targets = {
    direct: { target: `127.0.0.1:${server.port}`, tls: 'plaintext' as const },
    gateway: { target: `127.0.0.1:${gateway.port}`, tls: 'mtls' as const, token, serverPid: gateway.pid },
    hosted: { target: `127.0.0.1:${gateway.port}`, tls: 'mtls' as const, token, serverPid: gateway.pid },
    bare: { target: `127.0.0.1:${bare.port}`, tls: 'mtls' as const, serverPid: bare.pid },
  };
  const results: Measured[] = [];
  const run = async (kind: NonNullable<LoadOptions['kind']>, via: Via, method: string, request: Buffer, expectMessages: number) => {
    const base: LoadOptions = {
      ...targets[via],
      method,
      request,
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
      if (result.ok !== result.calls)
        throw new Error(`${upstream.name} upstream, ${via} ${kind}: ${result.calls - result.ok} calls failed: ${result.firstError}`);
    }
    results.push({ kind, via, unloaded, loaded });
  };
  for (let round = 0; round < Number(flags.rounds); round++) {
    for (const { kind, method, expectMessages } of kinds) {
      for (const via of ['direct', 'gateway', 'bare'] as const) await run(kind, via, method, HELLO_REQUEST, expectMessages);
    }
    await run(HOSTED.kind, 'hosted', HOSTED.method, HOSTED.request, HOSTED.expectMessages);
  }
  await stopAll();
  return results;
}

/** The table of one upstream's runs and its summary lines (one per kind: what the gateway adds and keeps). */
function report(upstream: BenchUpstream, results: Measured[]): void {
  const ticks = clockTicksPerSecond();
  console.log(`upstream ${upstream.name}: ${upstream.label}`);
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
  for (const { kind } of kinds) {
    const pick = (via: Via) => results.filter((r) => r.kind === kind && r.via === via);
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const addedBy = (via: Via) => median(pick(via).map((r) => r.unloaded.p50Ms)) - median(pick('direct').map((r) => r.unloaded.p50Ms));
    const keptBy = (via: Via) => median(pick(via).map((r) => r.loaded.callsPerSec)) / median(pick('direct').map((r) => r.loaded.callsPerSec));
    console.log(
      `${upstream.name} upstream, ${kind}: the gateway adds ${addedBy('gateway').toFixed(3)} ms to the unloaded p50 (aim <= 0.3) and keeps ${(keptBy('gateway') * 100).toFixed(0)}% of the direct throughput (aim >= 50%)`,
    );
    console.log(
      `${upstream.name} upstream, ${kind}: a bare grpc-js forwarder (no chain, same transport) adds ${addedBy('bare').toFixed(3)} ms and keeps ${(keptBy('bare') * 100).toFixed(0)}%`,
    );
  }
  // What forwarding itself costs: the routed unary call against a call the same gateway answers itself.
  const hosted = results.filter((r) => r.via === 'hosted');
  const routed = results.filter((r) => r.via === 'gateway' && r.kind === 'unary');
  if (hosted.length > 0 && routed.length > 0) {
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const cpu = (r: Measured) => (r.loaded.serverCpuTicks ?? 0) / ticks / r.loaded.ok;
    const p50 = median(routed.map((r) => r.unloaded.p50Ms)) - median(hosted.map((r) => r.unloaded.p50Ms));
    const cpuUs = (median(routed.map(cpu)) - median(hosted.map(cpu))) * 1e6;
    console.log(
      `${upstream.name} upstream, unary: forwarding itself (routed against the gateway's own Health/Check) adds ${p50.toFixed(3)} ms to the unloaded p50 and ${cpuUs.toFixed(0)} us of gateway CPU per call`,
    );
  }
  console.log('');
}

try {
  const contracts = makeContractFiles(files.dir);
  const client = buildLoadClient();
  const token = benchToken(files);
  for (const upstream of upstreams) report(upstream, await measure(upstream, contracts, client, token));
  console.log(
    `pinning: ${pin ? `gateway on CPU ${gatewayCpu}, load client and upstream on CPU ${clientCpu}` : 'none'}; windows ${windowMs} ms after ${warmupMs} ms warm-up`,
  );
} finally {
  await cleanUp();
}
