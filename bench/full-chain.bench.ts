/**
 * `npx tsx bench/full-chain.bench.ts [--seconds 1] [--rounds 7] [--concurrency 32]`
 *
 * In one process: unary calls over mTLS to a bare grpc-js server and to one
 * with the whole interceptor chain exactly as src/chain.ts builds it from
 * config (call outcome, tracing, metrics, access log, status, deadline,
 * authentication with a JWT, policy, stream cap, rate limit), rounds
 * alternating so drift hits all alike. Prints both throughputs and their ratio
 * (target: full chain >= 80% of bare), plus the same chain with a recording
 * OpenTelemetry SDK, to show what real tracing adds. Also prints CPU time per
 * call and the ratio it implies, which holds when other work shares the cores.
 *
 * The access log is on at info level and its lines are built and serialized
 * as in production; only the final write to stdout is skipped, so the figure
 * is CPU cost, not terminal speed. The rate limit is configured high enough
 * never to refuse, so its bucket is taken on every call.
 */
import * as grpc from '@grpc/grpc-js';
import { SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { recordMessageSizes } from '../interceptors/message-sizes.js';
import { hookHttp2Servers } from '../src/auth/http2-hooks.js';
import { mintToken } from '../src/auth/mint-token.js';
import { buildInterceptorChain } from '../src/chain.js';
import { callUnary, channelCredentials, createClient } from '../src/client/grpc-client.js';
import { loadConfig } from '../src/config/load.js';
import { createHealthState } from '../src/health/health-state.js';
import { createLogger } from '../src/logging/logger.js';
import { createMetricsRegistry } from '../src/metrics/metrics-registry.js';
import { loadServiceDefinition } from '../src/proto/load.js';
import { createTelemetry } from '../src/telemetry/telemetry.js';
import { createReloadingCredentials } from '../src/tls/reloading-credentials.js';
import { makeTemporaryDevCertificates } from '../certs/dev-certificates.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '7' },
    concurrency: { type: 'string', default: '32' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CONCURRENCY = Number(args.concurrency);
const SERVICE = 'gatehouse.tts.v1.TextToSpeech';
const METHOD = `/${SERVICE}/ListVoices`;
const SUBJECT = 'spiffe://gatehouse.dev/client/alice';

const certs = makeTemporaryDevCertificates();
const secret = randomBytes(32);
const token = mintToken({ key: secret, kid: 'bench', issuer: 'bench-issuer', audience: 'gatehouse', subject: SUBJECT, scopes: ['tts.synthesize'], ttlSec: 3600 });
const definition = loadServiceDefinition(SERVICE);
const implementation = { ListVoices: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { voices: [] }) };

const config = loadConfig({
  overrides: {
    'auth.issuer': 'bench-issuer',
    'auth.audience': 'gatehouse',
    'auth.hmacKeys': [{ kid: 'bench', alg: 'HS256', secret: secret.toString('base64url') }],
    'auth.devSigningKey.enabled': false,
    'policy.defaults': { identities: ['spiffe://gatehouse.dev/client/*'] },
    'policy.services': { [SERVICE]: { scopes: ['tts.synthesize'] } },
    'rateLimits.default': { requestsPerSecond: 1e9, burst: 1e9 },
    'logging.level': 'info',
  },
});

/** A server with the chain src/chain.ts builds, set up the way src/server.ts sets up the main listener. */
async function startServer(kind: 'bare' | 'chain' | 'traced', credentials: grpc.ServerCredentials): Promise<{ server: grpc.Server; port: number }> {
  let server: grpc.Server;
  if (kind === 'bare') {
    server = new grpc.Server();
  } else {
    const registry = createMetricsRegistry();
    // Access lines are built and serialized; only the write to stdout is skipped.
    const logger = createLogger({ level: config.logging.level, write: () => undefined });
    const telemetry = kind === 'traced'
      ? createTelemetry({ config: config.tracing, env: {}, spanProcessors: [new SimpleSpanProcessor({ exporter: discardingExporter })] })
      : undefined;
    const interceptors = buildInterceptorChain({
      config, registry, logger, health: createHealthState([SERVICE]), services: [{ name: SERVICE, definition }], telemetry, messageBytes: true,
    });
    server = new grpc.Server({ interceptors });
    hookHttp2Servers(server);
    recordMessageSizes(server);
  }
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))));
  return { server, port };
}

/** Takes spans and drops them: the SDK's recording and processing cost without any I/O. */
const discardingExporter: SpanExporter = {
  export(_spans: ReadableSpan[], done) { done({ code: 0 }); },
  shutdown: async () => undefined,
};

const pair = { cert_chain: readFileSync(certs.serverCert), private_key: readFileSync(certs.serverKey) };
const bareCredentials = grpc.ServerCredentials.createSsl(readFileSync(certs.caCert), [pair], true);
const reloading = createReloadingCredentials({
  certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.caCert, reloadIntervalMs: 0,
  registry: createMetricsRegistry(), logger: createLogger({ level: 'silent' }),
});

const servers = {
  bare: await startServer('bare', bareCredentials),
  chain: await startServer('chain', reloading.credentials),
  traced: await startServer('traced', reloading.credentials),
};
const clientCredentials = channelCredentials({ caFile: certs.caCert, certFile: certs.clients.alice.cert, keyFile: certs.clients.alice.key });
const clientFor = (port: number) => createClient(SERVICE, `127.0.0.1:${port}`, clientCredentials, { 'grpc.ssl_target_name_override': 'localhost' });
const clients = { bare: clientFor(servers.bare.port), chain: clientFor(servers.chain.port), traced: clientFor(servers.traced.port) };
// Every server gets the same request bytes, token and traceparent included: only what the server does with them differs.
const metadata = new grpc.Metadata();
metadata.set('authorization', `Bearer ${token}`);
metadata.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');

/** Throughput, and CPU time (this process: client and server) per call, which other load on the machine hardly moves. */
async function measure(client: grpc.Client, seconds: number): Promise<{ rate: number; cpuMicros: number }> {
  let calls = 0;
  const endAt = performance.now() + seconds * 1000;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < endAt) {
      await callUnary(client, 'listVoices', {}, { metadata });
      calls++;
    }
  }));
  const cpu = process.cpuUsage(cpuStart);
  return { rate: calls / ((performance.now() - started) / 1000), cpuMicros: (cpu.user + cpu.system) / calls };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// A call through the chain must succeed, or the bench would measure refusals.
await callUnary(clients.chain, 'listVoices', {}, { metadata });
for (const client of Object.values(clients)) await measure(client, 0.5);
const results: Record<keyof typeof clients, number[]> = { bare: [], chain: [], traced: [] };
const cpu: Record<keyof typeof clients, number[]> = { bare: [], chain: [], traced: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const name of ['bare', 'chain', 'traced'] as const) {
    const { rate, cpuMicros } = await measure(clients[name], SECONDS);
    results[name].push(rate);
    cpu[name].push(cpuMicros);
  }
}

// Each round measures all three back to back, so the per-round ratio cancels most of the machine's drift.
const ratios = results.chain.map((rate, i) => rate / results.bare[i]!);
const tracedRatios = results.traced.map((rate, i) => rate / results.bare[i]!);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(8);
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
console.log(`full chain bench: unary ${METHOD} over mTLS, one channel, ${CONCURRENCY} calls in flight, median of ${ROUNDS} rounds x ${SECONDS} s (node ${process.version}, grpc-js ${(await import('@grpc/grpc-js/package.json', { with: { type: 'json' } })).default.version})`);
console.log(`  bare grpc-js (mTLS, no interceptors)              ${fmt(median(results.bare))} calls/s   rounds: ${results.bare.map(fmt).join(' ')}`);
console.log(`  full chain (${buildInterceptorChain.name} as configured, no OTel SDK) ${fmt(median(results.chain))} calls/s   rounds: ${results.chain.map(fmt).join(' ')}`);
console.log(`  ratio full chain / bare (median of per-round ratios) ${pct(median(ratios))}   (target >= 80%; rounds: ${ratios.map(pct).join(' ')})`);
console.log(`  full chain + recording OTel SDK (spans discarded) ${fmt(median(results.traced))} calls/s   ratio ${pct(median(tracedRatios))}`);
// Throughput swings when other processes share the cores; CPU per call does not, and for a CPU-bound
// loop like this one, bare CPU / chain CPU is the throughput ratio an idle machine would show.
const cpuRatio = median(cpu.bare.map((micros, i) => micros / cpu.chain[i]!));
const cpuTracedRatio = median(cpu.bare.map((micros, i) => micros / cpu.traced[i]!));
console.log(`  CPU per call (client + server): bare ${median(cpu.bare).toFixed(1)} us, full chain ${median(cpu.chain).toFixed(1)} us, ` +
  `+SDK ${median(cpu.traced).toFixed(1)} us`);
console.log(`  CPU-based ratio full chain / bare ${pct(cpuRatio)} (target >= 80%); with recording SDK ${pct(cpuTracedRatio)}`);

for (const client of Object.values(clients)) client.close();
for (const { server } of Object.values(servers)) server.forceShutdown();
reloading.close();
rmSync(certs.dir, { recursive: true, force: true });
