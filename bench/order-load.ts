/**
 * The load generator of bench/orders-bench.ts, in its own process so the
 * gateways' CPU is not the client's. Places orders (or reads one) through every
 * target in turn with a fixed number of calls in flight for a fixed time, then
 * prints one JSON line: calls, errors by code, calls per second, p50 and p99 in ms.
 *
 *   node --import tsx bench/order-load.ts '<json LoadSpec>'
 */
import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import type { DevCertificateSet } from '../certs/dev-certificates.js';
import { callUnary, channelCredentials, createClient } from '../src/client/grpc-client.js';
import { devTokenFor, withBearerToken } from '../test/helpers/dev-token.js';

/** What to run. */
export interface LoadSpec {
  /** `127.0.0.1:port` of each gateway; calls go round-robin. */
  targets: string[];
  certs: DevCertificateSet;
  /** `order`: a new order per call; `getOrder`: reads `orderId`, the cheapest store call. */
  method: 'order' | 'getOrder';
  orderId?: string;
  /** Calls in flight at once. */
  concurrency: number;
  durationMs: number;
  /** Status codes that count as answers, not errors (NOT_FOUND for `getOrder` of a missing id). */
  answerCodes?: string[];
  /** Key prefix, unique per run. */
  runId: string;
}

/** What one run measured. */
export interface LoadResult {
  calls: number;
  errors: Record<string, number>;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const spec = JSON.parse(process.argv[2]!) as LoadSpec;
const credentials = withBearerToken(
  channelCredentials({ caFile: spec.certs.caCert, certFile: spec.certs.clients.alice.cert, keyFile: spec.certs.clients.alice.key }),
  devTokenFor(spec.certs, 'alice'),
);
// A few channels per target, as several clients would have.
const clients: grpc.Client[] = spec.targets.flatMap((target) =>
  Array.from({ length: 4 }, (_, i) =>
    createClient('cheesefarm.v1.CheeseService', target, credentials, {
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.channel_id': i,
    } as grpc.ChannelOptions),
  ),
);

const latencies: number[] = [];
const errors: Record<string, number> = {};
let next = 0;
const call = (n: number) => {
  const client = clients[n % clients.length]!;
  return spec.method === 'order'
    ? callUnary(client, 'order', { type: 'BRIE', age: 6, idempotencyKey: `${spec.runId}-${n}` }, { deadline: 10_000 })
    : callUnary(client, 'getOrder', { orderId: spec.orderId }, { deadline: 10_000 });
};
// Warm the channels (TLS handshakes) before measuring.
await Promise.all(clients.map((_, i) => call(1_000_000_000 + i).catch(() => undefined)));
const startedAt = performance.now();
const endAt = startedAt + spec.durationMs;
await Promise.all(
  Array.from({ length: spec.concurrency }, async () => {
    while (performance.now() < endAt) {
      const n = next++;
      const t0 = performance.now();
      try {
        await call(n);
        latencies.push(performance.now() - t0);
      } catch (error) {
        const code = Status[(error as grpc.ServiceError).code] ?? 'UNKNOWN';
        if (spec.answerCodes?.includes(code)) latencies.push(performance.now() - t0);
        else errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  }),
);
const elapsedS = (performance.now() - startedAt) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
const result: LoadResult = {
  calls: latencies.length,
  errors,
  callsPerSecond: Math.round(latencies.length / elapsedS),
  p50Ms: Number(at(0.5).toFixed(2)),
  p99Ms: Number(at(0.99).toFixed(2)),
};
console.log(JSON.stringify(result));
for (const client of clients) client.close();
