/**
 * `npx tsx bench/auth-chain.bench.ts [--seconds 1] [--rounds 7] [--concurrency 32]`
 *
 * In one process: unary calls over mTLS to a bare grpc-js server, and to one
 * with the security chain (certificate identity + JWT + per-method policy, as
 * src/chain.ts wires them), alternating rounds so drift hits both alike.
 * Prints both throughputs and their ratio (target: chain >= 85% of bare), the
 * chain without its token cache (every call verifies the signature), and
 * jsonwebtoken's cost per verify with a prepared KeyObject against a string
 * secret (which it re-parses on every call).
 */
import * as grpc from '@grpc/grpc-js';
import { createSecretKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import { Registry } from 'prom-client';
import { compileAccessPolicy } from '../interceptors/access-policy.js';
import { createAuthenticationInterceptor } from '../interceptors/authentication.js';
import { createAuthorizationInterceptor } from '../interceptors/authorization.js';
import { createKeyStore } from '../interceptors/key-store.js';
import { inServices, not, select } from '../interceptors/select.js';
import { createTokenVerifier } from '../interceptors/token-verifier.js';
import { peekCallState } from '../interceptors/call-state.js';
import { hmacVerificationKey } from '../interceptors/verification-keys.js';
import { hookHttp2Servers } from '../src/auth/http2-hooks.js';
import { INFRASTRUCTURE_SERVICES } from '../src/chain.js';
import { bearerMetadata } from '../src/client/grpc-client.js';
import { rejectionToStatus } from '../src/status/rejection-status.js';
import {
  BENCH_AUDIENCE, BENCH_ISSUER, BENCH_KEY_ID, BENCH_METHOD, BENCH_POLICY, BENCH_SUBJECT, createChainBenchFixture, formatPercent as pct,
  formatRate as fmt, headline, measureRounds, median, perRoundRatios, readChainBenchOptions,
} from './chain-bench-kit.js';

const options = readChainBenchOptions();
const fixture = createChainBenchFixture();
const { certs, secret, token, definition } = fixture;

/** The security layers exactly as src/chain.ts builds them, minus config loading. */
function securityChain(cacheSize: number): grpc.ServerInterceptor[] {
  const registry = new Registry();
  const verifier = createTokenVerifier({
    keys: createKeyStore({ keys: [hmacVerificationKey(BENCH_KEY_ID, 'HS256', secret)] }),
    issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE, cacheSize,
  });
  const policy = compileAccessPolicy(BENCH_POLICY, { methodPaths: Object.values(definition).map((m) => m.path), exemptServices: INFRASTRUCTURE_SERVICES });
  const applicationOnly = not(inServices(INFRASTRUCTURE_SERVICES));
  return [
    select(applicationOnly, createAuthenticationInterceptor({ verifier, registry, reject: rejectionToStatus })),
    select(applicationOnly, createAuthorizationInterceptor({ policy, registry, reject: rejectionToStatus })),
  ];
}

async function startServer(interceptors: grpc.ServerInterceptor[], credentials: grpc.ServerCredentials, hooks: boolean): Promise<number> {
  const server = new grpc.Server({ interceptors });
  // As src/server.ts does for the gateway: part of what the chain costs (and saves).
  if (hooks) hookHttp2Servers(server);
  return fixture.serve(server, credentials);
}

const clients = {
  bare: fixture.connect(await startServer([], fixture.bareCredentials, false)),
  chain: fixture.connect(await startServer(securityChain(1000), fixture.reloadingCredentials, true)),
  uncached: fixture.connect(await startServer(securityChain(0), fixture.reloadingCredentials, true)),
};
// Every server gets the same request bytes, token included: only what the server does with them differs.
const metadata = bearerMetadata(token);

const { rates: results, cpuMicros } = await measureRounds(clients, { ...options, metadata, order: ['bare', 'chain', 'uncached'], rotate: true });
// Calls per CPU-second of this process: steadier than wall-clock throughput when other processes share the machine.
const perCpu = { bare: cpuMicros.bare.map((micros) => 1e6 / micros), chain: cpuMicros.chain.map((micros) => 1e6 / micros) };

/**
 * The security layers' own cost per call, without network or other load's noise: a fake grpc-js base
 * call (one certificate object per connection, as src/auth/http2-hooks.ts arranges) is driven through
 * the chain's interceptors to the handler's listener, against the same with no interceptors.
 */
function layerMicros(interceptors: grpc.ServerInterceptor[], iterations: number): number {
  const certificate = new X509Certificate(readFileSync(certs.clients.alice.cert)).toLegacyObject();
  const authContext = () => ({ transportSecurityType: 'ssl', sslPeerCertificate: certificate });
  const descriptor = { path: BENCH_METHOD, requestStream: false, responseStream: false, requestDeserialize: (b: Buffer) => b, responseSerialize: (v: Buffer) => v };
  let refused = 0;
  let authenticated = 0;
  const handlerListener = {
    onReceiveMetadata(metadata: grpc.Metadata) { if (peekCallState(metadata)?.principal?.subject === BENCH_SUBJECT) authenticated++; },
    onReceiveMessage() {}, onReceiveHalfClose() {}, onCancel() {},
  };
  const run = () => {
    let listener: { onReceiveMetadata(metadata: grpc.Metadata): void } | undefined;
    const base = {
      start(l: typeof listener) { listener = l; },
      sendMetadata() {}, sendMessage() {}, sendStatus() { refused++; }, startRead() {},
      getPeer: () => '127.0.0.1:1', getDeadline: () => Infinity, getHost: () => 'localhost', getAuthContext: authContext,
      getConnectionInfo: () => ({}), getMetricsRecorder: () => ({}),
    } as unknown as grpc.ServerInterceptingCall;
    const call = interceptors.reduce((inner, interceptor) => interceptor(descriptor as never, inner), base);
    call.start(handlerListener as never);
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    listener!.onReceiveMetadata(metadata);
  };
  for (let i = 0; i < 5000; i++) run();
  const started = performance.now();
  for (let i = 0; i < iterations; i++) run();
  const micros = ((performance.now() - started) * 1000) / iterations;
  if (refused > 0) throw new Error(`the fake call was refused ${refused} times`);
  if (interceptors.length > 0 && authenticated !== iterations + 5000) throw new Error('the fake calls did not all reach the handler authenticated');
  return micros;
}
const directSamples = Array.from({ length: 5 }, () => layerMicros(securityChain(1000), 50_000) - layerMicros([], 50_000));
const directUncached = layerMicros(securityChain(0), 20_000) - layerMicros([], 20_000);
const directMicros = median(directSamples);
const bareCpuMicros = 1e6 / median(perCpu.bare);

function verifyMicros(key: string | Buffer | ReturnType<typeof createSecretKey>, iterations: number): number {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) jwt.verify(token, key, { algorithms: ['HS256'] });
  return ((performance.now() - started) * 1000) / iterations;
}
verifyMicros(createSecretKey(secret), 2000);
const keyObjectMicros = verifyMicros(createSecretKey(secret), 20_000);
const stringSecret = secret.toString('latin1');
const stringToken = jwt.sign(jwt.decode(token) as object, stringSecret, { algorithm: 'HS256', keyid: BENCH_KEY_ID });
const stringMicros = (() => {
  const started = performance.now();
  for (let i = 0; i < 20_000; i++) jwt.verify(stringToken, stringSecret, { algorithms: ['HS256'] });
  return ((performance.now() - started) * 1000) / 20_000;
})();

// Each round measures all three back to back, so the per-round ratio cancels most of the machine's drift.
const ratios = perRoundRatios(results.chain, results.bare);
const uncachedRatios = perRoundRatios(results.uncached, results.bare);
const cpuRatios = perRoundRatios(perCpu.chain, perCpu.bare);
const bareRate = median(results.bare);
const chainRate = median(results.chain);
const uncachedRate = median(results.uncached);
console.log(await headline('auth chain bench', options));
console.log(`  bare grpc-js (mTLS, no interceptors)           ${fmt(bareRate)} calls/s   rounds: ${results.bare.map(fmt).join(' ')}`);
console.log(`  mTLS + JWT + policy chain                      ${fmt(chainRate)} calls/s   rounds: ${results.chain.map(fmt).join(' ')}`);
console.log(`  ratio chain / bare (median of per-round ratios) ${pct(median(ratios))}   (target >= 85%; rounds: ${ratios.map(pct).join(' ')})`);
console.log(`  per CPU-second: bare ${fmt(median(perCpu.bare))}, chain ${fmt(median(perCpu.chain))} calls/cpu-s   ratio ${pct(median(cpuRatios))}   (rounds: ${cpuRatios.map(pct).join(' ')})`);
console.log(`  security layers' own cost (fake call, no network)   ${directMicros.toFixed(2)} us/call, against ${bareCpuMicros.toFixed(0)} us of CPU per bare call here: ratio implied ${pct(bareCpuMicros / (bareCpuMicros + directMicros))} (without token cache ${directUncached.toFixed(1)} us/call)`);
console.log(`  chain without token cache (verify every call)  ${fmt(uncachedRate)} calls/s   ratio ${pct(median(uncachedRatios))}`);
console.log(`  jsonwebtoken.verify HS256: KeyObject ${keyObjectMicros.toFixed(1)} us/op, string secret ${stringMicros.toFixed(1)} us/op (${(stringMicros / keyObjectMicros).toFixed(1)}x slower)`);

fixture.close();
