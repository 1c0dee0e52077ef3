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
import { createSecretKey, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { Registry } from 'prom-client';
import { makeTemporaryDevCertificates } from '../certs/dev-certificates.js';
import { compileAccessPolicy } from '../interceptors/access-policy.js';
import { createAuthenticationInterceptor } from '../interceptors/authentication.js';
import { createAuthorizationInterceptor } from '../interceptors/authorization.js';
import { createKeyStore } from '../interceptors/key-store.js';
import { inServices, not, select } from '../interceptors/select.js';
import { createTokenVerifier } from '../interceptors/token-verifier.js';
import { peekCallState } from '../interceptors/call-state.js';
import { hmacVerificationKey } from '../interceptors/verification-keys.js';
import { hookHttp2Servers } from '../src/auth/http2-hooks.js';
import { mintToken } from '../src/auth/mint-token.js';
import { INFRASTRUCTURE_SERVICES } from '../src/chain.js';
import { callUnary, channelCredentials, createClient } from '../src/client/grpc-client.js';
import { createLogger } from '../src/logging/logger.js';
import { loadServiceDefinition } from '../src/proto/load.js';
import { rejectionToStatus } from '../src/status/rejection-status.js';
import { createReloadingCredentials } from '../src/tls/reloading-credentials.js';

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
const token = mintToken({
  key: secret, kid: 'bench', issuer: 'bench-issuer', audience: 'gatehouse', subject: SUBJECT, scopes: ['tts.synthesize'], ttlSec: 3600,
});
const definition = loadServiceDefinition(SERVICE);
const implementation = { ListVoices: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { voices: [] }) };

/** The security layers exactly as src/chain.ts builds them, minus config loading. */
function securityChain(cacheSize: number): grpc.ServerInterceptor[] {
  const registry = new Registry();
  const verifier = createTokenVerifier({
    keys: createKeyStore({ keys: [hmacVerificationKey('bench', 'HS256', secret)] }),
    issuer: 'bench-issuer', audience: 'gatehouse', cacheSize,
  });
  const policy = compileAccessPolicy({
    defaults: { identities: ['spiffe://gatehouse.dev/client/*'] },
    services: { [SERVICE]: { scopes: ['tts.synthesize'] } },
  }, { methodPaths: Object.values(definition).map((m) => m.path), exemptServices: INFRASTRUCTURE_SERVICES });
  const applicationOnly = not(inServices(INFRASTRUCTURE_SERVICES));
  return [
    select(applicationOnly, createAuthenticationInterceptor({ verifier, registry, reject: rejectionToStatus })),
    select(applicationOnly, createAuthorizationInterceptor({ policy, registry, reject: rejectionToStatus })),
  ];
}

async function startServer(interceptors: grpc.ServerInterceptor[], credentials: grpc.ServerCredentials, hooks: boolean): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({ interceptors });
  // As src/server.ts does for the gateway: part of what the chain costs (and saves).
  if (hooks) hookHttp2Servers(server);
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))));
  return { server, port };
}

const pair = { cert_chain: readFileSync(certs.serverCert), private_key: readFileSync(certs.serverKey) };
const bareCredentials = grpc.ServerCredentials.createSsl(readFileSync(certs.caCert), [pair], true);
const reloading = createReloadingCredentials({
  certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.caCert, reloadIntervalMs: 0,
  registry: new Registry(), logger: createLogger({ level: 'silent' }),
});

const bare = await startServer([], bareCredentials, false);
const chain = await startServer(securityChain(1000), reloading.credentials, true);
const uncached = await startServer(securityChain(0), reloading.credentials, true);

const clientCredentials = channelCredentials({ caFile: certs.caCert, certFile: certs.clients.alice.cert, keyFile: certs.clients.alice.key });
const clientFor = (port: number) => createClient(SERVICE, `127.0.0.1:${port}`, clientCredentials, { 'grpc.ssl_target_name_override': 'localhost' });
const clients = { bare: clientFor(bare.port), chain: clientFor(chain.port), uncached: clientFor(uncached.port) };
// Every server gets the same request bytes, token included: only what the server does with them differs.
const metadata = new grpc.Metadata();
metadata.set('authorization', `Bearer ${token}`);

/** Throughput by the wall clock, and per CPU-second of this process (steadier when other processes share the machine). */
async function measure(client: grpc.Client, seconds: number): Promise<{ wall: number; cpu: number }> {
  let calls = 0;
  const endAt = performance.now() + seconds * 1000;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < endAt) {
      await callUnary(client, 'listVoices', {}, { metadata });
      calls++;
    }
  }));
  const cpu = process.cpuUsage(cpuBefore);
  return { wall: calls / ((performance.now() - started) / 1000), cpu: calls / ((cpu.user + cpu.system) / 1e6) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// Warm up every path (TLS sessions, JIT, token cache) before measuring.
for (const client of Object.values(clients)) await measure(client, 0.5);
const results: Record<keyof typeof clients, number[]> = { bare: [], chain: [], uncached: [] };
const perCpu: Record<keyof typeof clients, number[]> = { bare: [], chain: [], uncached: [] };
const order = ['bare', 'chain', 'uncached'] as const;
for (let round = 0; round < ROUNDS; round++) {
  // The order rotates each round, so no server always runs first or right after a given other one.
  for (const name of [...order.slice(round % 3), ...order.slice(0, round % 3)]) {
    const { wall, cpu } = await measure(clients[name], SECONDS);
    results[name].push(wall);
    perCpu[name].push(cpu);
  }
}

/**
 * The security layers' own cost per call, without network or other load's noise: a fake grpc-js base
 * call (one certificate object per connection, as src/auth/http2-hooks.ts arranges) is driven through
 * the chain's interceptors to the handler's listener, against the same with no interceptors.
 */
function layerMicros(interceptors: grpc.ServerInterceptor[], iterations: number): number {
  const certificate = new X509Certificate(readFileSync(certs.clients.alice.cert)).toLegacyObject();
  const authContext = () => ({ transportSecurityType: 'ssl', sslPeerCertificate: certificate });
  const descriptor = { path: METHOD, requestStream: false, responseStream: false, requestDeserialize: (b: Buffer) => b, responseSerialize: (v: Buffer) => v };
  let refused = 0;
  let authenticated = 0;
  const handlerListener = {
    onReceiveMetadata(metadata: grpc.Metadata) { if (peekCallState(metadata)?.principal?.subject === SUBJECT) authenticated++; },
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
const stringToken = jwt.sign(jwt.decode(token) as object, stringSecret, { algorithm: 'HS256', keyid: 'bench' });
const stringMicros = (() => {
  const started = performance.now();
  for (let i = 0; i < 20_000; i++) jwt.verify(stringToken, stringSecret, { algorithms: ['HS256'] });
  return ((performance.now() - started) * 1000) / 20_000;
})();

// Each round measures all three back to back, so the per-round ratio cancels most of the machine's drift.
const ratios = results.chain.map((rate, i) => rate / results.bare[i]!);
const uncachedRatios = results.uncached.map((rate, i) => rate / results.bare[i]!);
const cpuRatios = perCpu.chain.map((rate, i) => rate / perCpu.bare[i]!);
const bareRate = median(results.bare);
const chainRate = median(results.chain);
const uncachedRate = median(results.uncached);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(8);
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
console.log(`auth chain bench: unary ${METHOD} over mTLS, one channel, ${CONCURRENCY} calls in flight, median of ${ROUNDS} rounds x ${SECONDS} s (node ${process.version}, grpc-js ${(await import('@grpc/grpc-js/package.json', { with: { type: 'json' } })).default.version})`);
console.log(`  bare grpc-js (mTLS, no interceptors)           ${fmt(bareRate)} calls/s   rounds: ${results.bare.map(fmt).join(' ')}`);
console.log(`  mTLS + JWT + policy chain                      ${fmt(chainRate)} calls/s   rounds: ${results.chain.map(fmt).join(' ')}`);
console.log(`  ratio chain / bare (median of per-round ratios) ${pct(median(ratios))}   (target >= 85%; rounds: ${ratios.map(pct).join(' ')})`);
console.log(`  per CPU-second: bare ${fmt(median(perCpu.bare))}, chain ${fmt(median(perCpu.chain))} calls/cpu-s   ratio ${pct(median(cpuRatios))}   (rounds: ${cpuRatios.map(pct).join(' ')})`);
console.log(`  security layers' own cost (fake call, no network)   ${directMicros.toFixed(2)} us/call, against ${bareCpuMicros.toFixed(0)} us of CPU per bare call here: ratio implied ${pct(bareCpuMicros / (bareCpuMicros + directMicros))} (without token cache ${directUncached.toFixed(1)} us/call)`);
console.log(`  chain without token cache (verify every call)  ${fmt(uncachedRate)} calls/s   ratio ${pct(median(uncachedRatios))}`);
console.log(`  jsonwebtoken.verify HS256: KeyObject ${keyObjectMicros.toFixed(1)} us/op, string secret ${stringMicros.toFixed(1)} us/op (${(stringMicros / keyObjectMicros).toFixed(1)}x slower)`);

for (const client of Object.values(clients)) client.close();
for (const { server } of [bare, chain, uncached]) server.forceShutdown();
reloading.close();
rmSync(certs.dir, { recursive: true, force: true });
