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
import { recordMessageSizes } from '../interceptors/message-sizes.js';
import { hookHttp2Servers } from '../src/auth/http2-hooks.js';
import { buildInterceptorChain } from '../src/chain.js';
import { bearerMetadata, callUnary } from '../src/client/grpc-client.js';
import { loadConfig } from '../src/config/load.js';
import { createHealthState } from '../src/health/health-state.js';
import { createLogger } from '../src/logging/logger.js';
import { createMetricsRegistry } from '../src/metrics/metrics-registry.js';
import { createTelemetry } from '../src/telemetry/telemetry.js';
import {
  BENCH_AUDIENCE, BENCH_ISSUER, BENCH_KEY_ID, BENCH_POLICY, BENCH_SERVICE, createChainBenchFixture, formatPercent as pct,
  formatRate as fmt, headline, measureRounds, median, perRoundRatios, readChainBenchOptions,
} from './chain-bench-kit.js';

const options = readChainBenchOptions();
// As in src/server.ts, the credentials report on a registry with the process and Node collectors a gateway carries.
const fixture = createChainBenchFixture({ credentialsRegistry: createMetricsRegistry() });
const { secret, token, definition } = fixture;

const config = loadConfig({
  overrides: {
    'auth.issuer': BENCH_ISSUER,
    'auth.audience': BENCH_AUDIENCE,
    'auth.hmacKeys': [{ kid: BENCH_KEY_ID, alg: 'HS256', secret: secret.toString('base64url') }],
    'auth.devSigningKey.enabled': false,
    'policy.defaults': BENCH_POLICY.defaults,
    'policy.services': BENCH_POLICY.services,
    'rateLimits.default': { requestsPerSecond: 1e9, burst: 1e9 },
    'logging.level': 'info',
  },
});

/** A server with the chain src/chain.ts builds, set up the way src/server.ts sets up the main listener. */
async function startServer(kind: 'bare' | 'chain' | 'traced', credentials: grpc.ServerCredentials): Promise<number> {
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
      config, registry, logger, health: createHealthState([BENCH_SERVICE]), services: [{ name: BENCH_SERVICE, definition }], telemetry, messageBytes: true,
    });
    server = new grpc.Server({ interceptors });
    hookHttp2Servers(server);
    recordMessageSizes(server);
  }
  return fixture.serve(server, credentials);
}

/** Takes spans and drops them: the SDK's recording and processing cost without any I/O. */
const discardingExporter: SpanExporter = {
  export(_spans: ReadableSpan[], done) { done({ code: 0 }); },
  shutdown: async () => undefined,
};

const clients = {
  bare: fixture.connect(await startServer('bare', fixture.bareCredentials)),
  chain: fixture.connect(await startServer('chain', fixture.reloadingCredentials)),
  traced: fixture.connect(await startServer('traced', fixture.reloadingCredentials)),
};
// Every server gets the same request bytes, token and traceparent included: only what the server does with them differs.
const metadata = bearerMetadata(token, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });

// A call through the chain must succeed, or the bench would measure refusals.
await callUnary(clients.chain, 'listVoices', {}, { metadata });
const { rates: results, cpuMicros: cpu } = await measureRounds(clients, { ...options, metadata, order: ['bare', 'chain', 'traced'] });

// Each round measures all three back to back, so the per-round ratio cancels most of the machine's drift.
const ratios = perRoundRatios(results.chain, results.bare);
const tracedRatios = perRoundRatios(results.traced, results.bare);
console.log(await headline('full chain bench', options));
console.log(`  bare grpc-js (mTLS, no interceptors)              ${fmt(median(results.bare))} calls/s   rounds: ${results.bare.map(fmt).join(' ')}`);
console.log(`  full chain (${buildInterceptorChain.name} as configured, no OTel SDK) ${fmt(median(results.chain))} calls/s   rounds: ${results.chain.map(fmt).join(' ')}`);
console.log(`  ratio full chain / bare (median of per-round ratios) ${pct(median(ratios))}   (target >= 80%; rounds: ${ratios.map(pct).join(' ')})`);
console.log(`  full chain + recording OTel SDK (spans discarded) ${fmt(median(results.traced))} calls/s   ratio ${pct(median(tracedRatios))}`);
// Throughput swings when other processes share the cores; CPU per call does not, and for a CPU-bound
// loop like this one, bare CPU / chain CPU is the throughput ratio an idle machine would show.
const cpuRatio = median(perRoundRatios(cpu.bare, cpu.chain));
const cpuTracedRatio = median(perRoundRatios(cpu.bare, cpu.traced));
console.log(`  CPU per call (client + server): bare ${median(cpu.bare).toFixed(1)} us, full chain ${median(cpu.chain).toFixed(1)} us, ` +
  `+SDK ${median(cpu.traced).toFixed(1)} us`);
console.log(`  CPU-based ratio full chain / bare ${pct(cpuRatio)} (target >= 80%); with recording SDK ${pct(cpuTracedRatio)}`);

fixture.close();
