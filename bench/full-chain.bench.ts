/**
 * `npx tsx bench/full-chain.bench.ts [--calls 200000]`
 *
 * A profiling aid, not a throughput comparison: it drives fake grpc-js calls
 * (no sockets, no TLS, no HTTP/2) through the gateway's one interceptor, built
 * exactly as src/chain.ts builds it from config (mTLS identity, a JWT, a
 * traceparent, the access log at info serialised to nowhere), once with every
 * step and once with each step alone, and prints the microseconds of CPU each
 * costs per unary call. Use it to see which step to work on.
 *
 * It says nothing about the chain's cost relative to a bare server: a client
 * in the server's own process measures mostly the client. The figures that
 * compare Gatehouse with bare grpc-js come from the out-of-process benchmark
 * in bench/external/ (client on its own core, server on the other).
 */
import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { STEP_NAMES, type StepName } from '../interceptors/gateway-call.js';
import type { InterceptingServerListener } from '../interceptors/grpc-compat.js';
import { buildInterceptorChain } from '../src/chain.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/logging/logger.js';
import { createMetricsRegistry } from '../src/metrics/metrics-registry.js';
import { BENCH_AUDIENCE, BENCH_ISSUER, BENCH_KEY_ID, BENCH_METHOD, BENCH_POLICY, BENCH_SERVICE, createChainBenchFixture } from './chain-bench-kit.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '200000' } } });
const calls = Number(values.calls);
const fixture = createChainBenchFixture();
const { secret, token, definition, certs } = fixture;
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

const certificate = new X509Certificate(readFileSync(certs.clients.alice.cert)).toLegacyObject();
const authContext = { transportSecurityType: 'ssl', sslPeerCertificate: certificate };
const connectionInfo = { remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 50051 };
const descriptor = {
  path: BENCH_METHOD,
  requestStream: false,
  responseStream: false,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (v: Buffer) => v,
};

/** Builds the chain with `steps` and returns microseconds per call, and how many calls were refused. */
async function measure(steps: readonly StepName[] | undefined): Promise<{ micros: number; refused: number }> {
  const chain = buildInterceptorChain({
    config,
    registry: createMetricsRegistry(),
    logger: createLogger({ level: 'info', write: () => undefined }),
    services: [{ name: BENCH_SERVICE, definition }],
    messageBytes: true,
    steps,
  });
  let refused = 0;
  const reply = { voices: [] };
  const one = () => {
    let listener: InterceptingServerListener | undefined;
    let ended = false;
    const base = {
      start(l: InterceptingServerListener) {
        listener = l;
      },
      sendMetadata() {},
      sendMessage(_m: unknown, done: () => void) {
        done();
      },
      sendStatus(status: grpc.StatusObject) {
        ended = true;
        if (status.code !== 0) refused++;
      },
      startRead() {},
      getPeer: () => '127.0.0.1:40000',
      getDeadline: () => Infinity,
      getHost: () => 'localhost',
      getAuthContext: () => authContext,
      getConnectionInfo: () => connectionInfo,
      getMetricsRecorder: () => ({}),
    };
    const call = chain.interceptor(descriptor as never, base as never);
    call.start({
      onReceiveMetadata() {},
      onReceiveMessage() {},
      onReceiveHalfClose() {
        call.sendMessage(reply, () => call.sendStatus({ code: 0, details: 'OK' }));
      },
      onCancel() {},
    });
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    metadata.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    listener!.onReceiveMetadata(metadata);
    if (!ended) {
      listener!.onReceiveMessage({});
      listener!.onReceiveHalfClose();
    }
    listener!.onCancel();
  };
  const run = async (n: number) => {
    // In batches, so the access log's queued lines are written between them as they would be in a server.
    for (let done = 0; done < n; done += 1000) {
      for (let i = 0; i < 1000; i++) one();
      await nextTurn();
    }
  };
  await run(20_000);
  refused = 0;
  const cpu = process.cpuUsage();
  await run(calls);
  const used = process.cpuUsage(cpu);
  chain.stop();
  return { micros: (used.user + used.system) / calls, refused };
}

const grpcJs = (await import('@grpc/grpc-js/package.json', { with: { type: 'json' } })).default;
console.log(`chain steps profile: ${calls} fake unary calls per line, CPU us per call (node ${process.version}, grpc-js ${grpcJs.version})`);
const none = await measure([]);
console.log(`  no steps (the gateway call object alone)   ${none.micros.toFixed(2)} us`);
for (const name of STEP_NAMES) {
  const result = await measure([name]);
  const note = result.refused > 0 ? `   (refuses alone: ${result.refused} calls, e.g. authorization without authentication)` : '';
  console.log(`  ${name.padEnd(15)} alone                  ${result.micros.toFixed(2)} us   (+${(result.micros - none.micros).toFixed(2)})${note}`);
}
const all = await measure(undefined);
console.log(
  `  every step (as config/default.yaml)       ${all.micros.toFixed(2)} us   (+${(all.micros - none.micros).toFixed(2)}), refused ${all.refused}`,
);
fixture.close();
