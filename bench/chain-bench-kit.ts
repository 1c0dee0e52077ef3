/**
 * What the chain benches (auth-chain, full-chain) share: one process that
 * serves a stub ListVoices over mTLS from several grpc-js servers (bare, and
 * with some interceptor chain) and measures unary throughput and CPU per call
 * against each in rounds, so the ratios between servers are taken under the
 * same conditions. Each bench keeps what it compares and what it prints.
 */
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { makeTemporaryDevCertificates, type DevCertificateSet } from '../certs/dev-certificates.js';
import { mintToken } from '../src/auth/mint-token.js';
import { callUnary, channelCredentials, createClient } from '../src/client/grpc-client.js';
import { createLogger } from '../src/logging/logger.js';
import { loadServiceDefinition } from '../src/proto/load.js';
import { createReloadingCredentials } from '../src/tls/reloading-credentials.js';

/** The service every bench server carries; ListVoices is its cheapest unary method, so the chain's cost is not drowned out. */
export const BENCH_SERVICE = 'gatehouse.tts.v1.TextToSpeech';
/** Full path of the method the benches call. */
export const BENCH_METHOD = `/${BENCH_SERVICE}/ListVoices`;
/** The identity in the client certificate the benches present (development client alice). */
export const BENCH_SUBJECT = 'spiffe://gatehouse.dev/client/alice';
/** `iss` of the bench token, which the chain must be configured to expect. */
export const BENCH_ISSUER = 'bench-issuer';
/** `aud` of the bench token, which the chain must be configured to expect. */
export const BENCH_AUDIENCE = 'gatehouse';
/** `kid` of the HMAC key the bench token is signed with. */
export const BENCH_KEY_ID = 'bench';
/**
 * The access policy both benches enforce: any development client identity, with the one scope the token
 * carries. Shaped as the config's `policy` section, so it feeds both config overrides and compileAccessPolicy.
 */
export const BENCH_POLICY = {
  defaults: { identities: ['spiffe://gatehouse.dev/client/*'] },
  services: { [BENCH_SERVICE]: { scopes: ['tts.synthesize'] } },
};

/** Settings read from the command line, the same for every chain bench. */
export interface ChainBenchOptions {
  /** Length of one measurement, in seconds (`--seconds`, default 1). */
  seconds: number;
  /** Number of rounds, each measuring every server once; figures are medians over rounds (`--rounds`, default 7). */
  rounds: number;
  /** Calls kept in flight on the one channel (`--concurrency`, default 32). */
  concurrency: number;
}

/** Reads `--seconds`, `--rounds` and `--concurrency` from `argv` (default: this process's arguments). */
export function readChainBenchOptions(argv: string[] = process.argv.slice(2)): ChainBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '7' },
      concurrency: { type: 'string', default: '32' },
    },
  });
  return { seconds: Number(values.seconds), rounds: Number(values.rounds), concurrency: Number(values.concurrency) };
}

/** Options of {@link createChainBenchFixture}. */
export interface ChainBenchFixtureOptions {
  /**
   * Registry the reloading server credentials report their certificate metrics on. Default: a bare `Registry`.
   * A bench that mirrors the gateway passes what the gateway uses, so the process carries the same collectors.
   */
  credentialsRegistry?: Registry;
}

/** Certificates, token, credentials and stub service of one bench run, and the servers and clients made from them. */
export interface ChainBenchFixture {
  /** A fresh development certificate set in a temporary directory, removed by `close()`. */
  certs: DevCertificateSet;
  /** The HMAC-SHA256 secret the token is signed with; the chain under test must trust it under {@link BENCH_KEY_ID}. */
  secret: Buffer;
  /** A bearer token for {@link BENCH_SUBJECT} from {@link BENCH_ISSUER} to {@link BENCH_AUDIENCE} with the policy's scope, valid for an hour. */
  token: string;
  /** The grpc-js definition of {@link BENCH_SERVICE}. */
  definition: grpc.ServiceDefinition;
  /** Static mTLS credentials (client certificate required), as a plain grpc-js server would have. */
  bareCredentials: grpc.ServerCredentials;
  /** The gateway's reloading mTLS credentials (reload timer off), part of what the gateway's listener costs. */
  reloadingCredentials: grpc.ServerCredentials;
  /** Adds the stub ListVoices to `server`, binds it to an ephemeral loopback port and returns the port; `close()` shuts it down. */
  serve(server: grpc.Server, credentials: grpc.ServerCredentials): Promise<number>;
  /** A client of {@link BENCH_SERVICE} on `port`, presenting alice's certificate; `close()` closes it. */
  connect(port: number): grpc.Client;
  /** Closes every client and server made here, stops the credentials and removes the certificates. */
  close(): void;
}

/** Makes the certificates, token and credentials of one bench run; call `close()` when done. */
export function createChainBenchFixture(options: ChainBenchFixtureOptions = {}): ChainBenchFixture {
  const certs = makeTemporaryDevCertificates();
  const secret = randomBytes(32);
  const token = mintToken({
    key: secret,
    kid: BENCH_KEY_ID,
    issuer: BENCH_ISSUER,
    audience: BENCH_AUDIENCE,
    subject: BENCH_SUBJECT,
    scopes: BENCH_POLICY.services[BENCH_SERVICE]!.scopes,
    ttlSec: 3600,
  });
  const definition = loadServiceDefinition(BENCH_SERVICE);
  // The handler does as little as possible, so what differs between servers is the chain in front of it.
  const implementation = { ListVoices: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { voices: [] }) };

  const pair = { cert_chain: readFileSync(certs.serverCert), private_key: readFileSync(certs.serverKey) };
  const bareCredentials = grpc.ServerCredentials.createSsl(readFileSync(certs.caCert), [pair], true);
  const reloading = createReloadingCredentials({
    certFile: certs.serverCert,
    keyFile: certs.serverKey,
    clientCaFile: certs.caCert,
    reloadIntervalMs: 0,
    registry: options.credentialsRegistry ?? new Registry(),
    logger: createLogger({ level: 'silent' }),
  });
  const clientCredentials = channelCredentials({ caFile: certs.caCert, certFile: certs.clients.alice.cert, keyFile: certs.clients.alice.key });

  const servers: grpc.Server[] = [];
  const clients: grpc.Client[] = [];
  return {
    certs,
    secret,
    token,
    definition,
    bareCredentials,
    reloadingCredentials: reloading.credentials,
    async serve(server, credentials) {
      server.addService(definition, implementation);
      servers.push(server);
      return new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
      );
    },
    connect(port) {
      const client = createClient(BENCH_SERVICE, `127.0.0.1:${port}`, clientCredentials, { 'grpc.ssl_target_name_override': 'localhost' });
      clients.push(client);
      return client;
    },
    close() {
      for (const client of clients) client.close();
      for (const server of servers) server.forceShutdown();
      reloading.close();
      rmSync(certs.dir, { recursive: true, force: true });
    },
  };
}

/** One measurement of one server. */
export interface Measurement {
  /** Completed calls per second of wall time. */
  rate: number;
  /** CPU time of this process (client and server) per call, in microseconds: other load on the machine hardly moves it. */
  cpuMicros: number;
}

/** Keeps `concurrency` ListVoices calls in flight on `client` for `seconds`, and reports throughput and CPU per call. */
export async function measure(client: grpc.Client, metadata: grpc.Metadata, seconds: number, concurrency: number): Promise<Measurement> {
  let calls = 0;
  const endAt = performance.now() + seconds * 1000;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < endAt) {
        await callUnary(client, 'listVoices', {}, { metadata });
        calls++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpuStart);
  return { rate: calls / ((performance.now() - started) / 1000), cpuMicros: (cpu.user + cpu.system) / calls };
}

/** Options of {@link measureRounds}. */
export interface RoundsOptions<Name extends string> extends ChainBenchOptions {
  /** Request metadata sent on every call; the same for every server, so only what a server does with it differs. */
  metadata: grpc.Metadata;
  /** The order servers are measured in within a round. */
  order: readonly Name[];
  /**
   * Whether the order rotates by one each round, so no server always runs first or right after a given
   * other one. Default false: every round runs `order` as given.
   */
  rotate?: boolean;
}

/** Per server, one figure per round, in round order. */
export interface RoundsResult<Name extends string> {
  /** Calls per second of wall time. */
  rates: Record<Name, number[]>;
  /** Microseconds of this process's CPU per call. */
  cpuMicros: Record<Name, number[]>;
}

/**
 * Warms every server up for half a second (TLS sessions, JIT, caches), then measures each once per round.
 * Servers are measured back to back within a round, so per-round ratios cancel most of the machine's drift.
 */
export async function measureRounds<Name extends string>(
  clients: Record<Name, grpc.Client>,
  options: RoundsOptions<Name>,
): Promise<RoundsResult<Name>> {
  const { metadata, order, seconds, rounds, concurrency } = options;
  for (const name of order) await measure(clients[name], metadata, 0.5, concurrency);
  const rates = Object.fromEntries(order.map((name) => [name, [] as number[]])) as Record<Name, number[]>;
  const cpuMicros = Object.fromEntries(order.map((name) => [name, [] as number[]])) as Record<Name, number[]>;
  for (let round = 0; round < rounds; round++) {
    const shift = options.rotate ? round % order.length : 0;
    for (const name of [...order.slice(shift), ...order.slice(0, shift)]) {
      const result = await measure(clients[name], metadata, seconds, concurrency);
      rates[name].push(result.rate);
      cpuMicros[name].push(result.cpuMicros);
    }
  }
  return { rates, cpuMicros };
}

/** `numerators[i] / denominators[i]` for each round: a ratio taken within a round, where both saw the same conditions. */
export function perRoundRatios(numerators: number[], denominators: number[]): number[] {
  return numerators.map((value, i) => value / denominators[i]!);
}

/** The middle value (upper middle for an even count): robust to the odd round another process disturbed. */
export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** A rate as a whole number with thousands separators, padded to 8 so columns of rounds line up. */
export function formatRate(value: number): string {
  return Math.round(value).toLocaleString('en-US').padStart(8);
}

/** A ratio as a percentage with one decimal. */
export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** The first line of a chain bench's output: what was measured, how, and on which Node and grpc-js, since figures move with both. */
export async function headline(title: string, options: ChainBenchOptions): Promise<string> {
  const grpcJs = (await import('@grpc/grpc-js/package.json', { with: { type: 'json' } })).default;
  return (
    `${title}: unary ${BENCH_METHOD} over mTLS, one channel, ${options.concurrency} calls in flight, ` +
    `median of ${options.rounds} rounds x ${options.seconds} s (node ${process.version}, grpc-js ${grpcJs.version})`
  );
}
