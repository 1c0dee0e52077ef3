/**
 * Issue 14's "Done means": two gateway processes on different ports share one
 * real PostgreSQL and one real Redis. Orders, idempotency, watchers, kill -9,
 * a PostgreSQL restart and a shared rate limit, seen from clients.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { makeTemporaryDevCertificates, type DevCertificateSet } from '../../certs/dev-certificates.js';
import { callUnary, channelCredentials, createClient, openServerStream } from '../../src/client/grpc-client.js';
import { createStatusDetailsCodec, STATUS_DETAILS_KEY } from '../../src/status/status-details.js';
import { devTokenFor, withBearerToken } from '../helpers/dev-token.js';
import { spawnGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const CHEESE = 'cheesefarm.v1.CheeseService';
const RATE_LIMITED_METHOD = `${CHEESE}/GetOrder`;
const codec = createStatusDetailsCodec();

interface Cheese {
  orderId: string;
  type: string;
  idempotencyKey: string;
  sequence: string;
}
interface Outcome {
  ok?: Cheese;
  code?: string;
  retryDelayMs?: number;
  message?: string;
}

describe('two gateways sharing PostgreSQL and Redis', { timeout: 240_000 }, () => {
  let certs: DevCertificateSet;
  let pg: PostgresServer;
  let redis: RedisServer;
  let scratch: string;
  const gateways: GatewayProcess[] = [];
  const clients: grpc.Client[] = [];

  const spawn = async () => {
    const gw = await spawnGateway(certs, join(scratch, 'unused.db'), {
      GATEHOUSE_STORAGE__URL: pg.url,
      GATEHOUSE_STORAGE__PROBE_INTERVAL_MS: '200',
      GATEHOUSE_RATE_LIMITS__REDIS_URL: redis.url,
      // The machine running the tests is shared and busy: a roomier budget than production's few ms.
      GATEHOUSE_RATE_LIMITS__REDIS_BUDGET_MS: '250',
      GATEHOUSE_RATE_LIMITS__METHODS: JSON.stringify({ [RATE_LIMITED_METHOD]: { requestsPerSecond: 20, burst: 5 } }),
      GATEHOUSE_CHEESE__STOCK: JSON.stringify({ ROQUEFORT: 50, BRIE: 100_000, EMMENTAL: 100_000, PECORINO: 100_000, CANASTRA: 100_000 }),
      GATEHOUSE_LOGGING__ACCESS_LOG: 'false',
    });
    gateways.push(gw);
    return untilReady(gw);
  };
  const client = (gw: GatewayProcess, who: 'alice' | 'bob' = 'alice') => {
    const c = createClient(
      CHEESE,
      `127.0.0.1:${gw.grpcPort}`,
      withBearerToken(
        channelCredentials({ caFile: certs.caCert, certFile: certs.clients[who].cert, keyFile: certs.clients[who].key }),
        devTokenFor(certs, who),
      ),
      { 'grpc.ssl_target_name_override': 'localhost' },
    );
    clients.push(c);
    return c;
  };
  const outcome = async (promise: Promise<Cheese>): Promise<Outcome> => {
    try {
      return { ok: await promise };
    } catch (caught) {
      const error = caught as grpc.ServiceError;
      const raw = error.metadata?.get(STATUS_DETAILS_KEY)[0];
      const details = raw ? codec.decode(Buffer.isBuffer(raw) ? raw : Buffer.from(raw)) : undefined;
      return { code: Status[error.code], retryDelayMs: details?.retryDelayMs, message: error.details };
    }
  };
  const order = (c: grpc.Client, key: string, type = 'BRIE', deadlineMs = 10_000) =>
    outcome(callUnary<Cheese>(c, 'order', { type, age: 6, idempotencyKey: key }, { deadline: deadlineMs }));
  const readyz = async (gw: GatewayProcess) => (await fetch(`http://127.0.0.1:${gw.adminPort}/readyz`)).status;
  /** spawnGateway resolves when the process listens; the store opens (and migrates) after that. */
  const untilReady = async (gw: GatewayProcess) => {
    for (let i = 0; i < 200; i += 1) {
      if ((await readyz(gw)) === 200) return gw;
      await sleep(50);
    }
    throw new Error(`gateway on ${gw.grpcPort} never became ready:\n${gw.output.slice(-20).join('\n')}`);
  };

  let a: GatewayProcess;
  let b: GatewayProcess;
  before(async () => {
    certs = makeTemporaryDevCertificates();
    scratch = mkdtempSync(join(tmpdir(), 'gatehouse-scale-'));
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    [a, b] = await Promise.all([spawn(), spawn()]);
    assert.notEqual(a.grpcPort, b.grpcPort);
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const gw of gateways) if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGKILL');
    await Promise.all(gateways.map((gw) => gw.exited));
    await Promise.all([pg?.close(), redis?.close()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('200 concurrent orders across both for a type with stock 50: exactly 50 orders, 150 FAILED_PRECONDITION', async () => {
    const [ca, cb] = [client(a), client(b)];
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => order(i % 2 === 0 ? ca : cb, `stock-${i}`, 'ROQUEFORT', 30_000)));
    const codes = results.map((r) => r.code ?? 'OK');
    assert.equal(codes.filter((c) => c === 'OK').length, 50, `codes: ${JSON.stringify(count(codes))}`);
    assert.equal(codes.filter((c) => c === 'FAILED_PRECONDITION').length, 150);
    assert.equal(pg.psql("SELECT count(*) FROM orders WHERE type = 'ROQUEFORT'").trim(), '50');
    assert.equal(pg.psql("SELECT quantity FROM sold WHERE type = 'ROQUEFORT'").trim(), '50');
  });

  it('the same idempotency key sent to both at once makes one order', async () => {
    const [ca, cb] = [client(a), client(b)];
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => order(i % 2 === 0 ? ca : cb, 'one-key-two-gateways')));
    assert.ok(
      results.every((r) => r.ok),
      JSON.stringify(results.filter((r) => !r.ok)),
    );
    assert.equal(new Set(results.map((r) => r.ok!.orderId)).size, 1);
    assert.equal(pg.psql("SELECT count(*) FROM orders WHERE idempotency_key = 'one-key-two-gateways'").trim(), '1');
  });

  it('a watcher on one gateway sees every order placed on the other, in commit order, once', async () => {
    const watch = openServerStream<{ order: Cheese }>(client(a, 'bob'), 'watchOrders', { type: 'PECORINO' });
    const seen: Cheese[] = [];
    watch.on('data', (event: { order: Cheese }) => seen.push(event.order));
    watch.on('error', () => undefined);
    await sleep(500);
    const cb = client(b);
    const placed: Cheese[] = [];
    // Four concurrent writers: commit order is then decided by PostgreSQL, not by this loop.
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 10; i += 1) {
          const result = await order(cb, `watched-${w}-${i}`, 'PECORINO');
          assert.ok(result.ok, result.message);
          placed.push(result.ok);
        }
      }),
    );
    for (let i = 0; i < 100 && seen.length < placed.length; i += 1) await sleep(50);
    await sleep(300); // anything extra (a duplicate) would arrive now
    watch.cancel();
    assert.equal(seen.length, 40);
    assert.deepEqual(new Set(seen.map((o) => o.orderId)), new Set(placed.map((o) => o.orderId)));
    const sequences = seen.map((o) => Number(o.sequence));
    assert.deepEqual(
      sequences,
      [...sequences].sort((x, y) => x - y),
      'commit order',
    );
    assert.equal(new Set(sequences).size, 40, 'no duplicates');
  });

  it('a watcher that reconnects with its resume point after its gateway is killed misses nothing', async () => {
    const victim = await spawn();
    const seen: Cheese[] = [];
    const first = openServerStream<{ order: Cheese }>(client(victim, 'bob'), 'watchOrders', { type: 'CANASTRA' });
    first.on('data', (event: { order: Cheese }) => seen.push(event.order));
    const ended = new Promise<void>((resolve) => {
      first.on('error', () => resolve());
      first.on('end', () => resolve());
    });
    await sleep(500);
    const ca = client(a);
    const placed: string[] = [];
    for (let i = 0; i < 5; i += 1) placed.push((await order(ca, `resume-before-${i}`, 'CANASTRA')).ok!.orderId);
    for (let i = 0; i < 60 && seen.length < 5; i += 1) await sleep(50);
    assert.equal(seen.length, 5);
    victim.child.kill('SIGKILL');
    await victim.exited;
    await ended;
    // Placed while the watcher has no gateway.
    for (let i = 0; i < 5; i += 1) placed.push((await order(ca, `resume-gap-${i}`, 'CANASTRA')).ok!.orderId);
    const resumeAfter = seen[seen.length - 1]!.sequence;
    const second = openServerStream<{ order: Cheese }>(client(b, 'bob'), 'watchOrders', { type: 'CANASTRA', afterSequence: resumeAfter });
    second.on('data', (event: { order: Cheese }) => seen.push(event.order));
    second.on('error', () => undefined);
    await sleep(300);
    for (let i = 0; i < 5; i += 1) placed.push((await order(ca, `resume-after-${i}`, 'CANASTRA')).ok!.orderId);
    for (let i = 0; i < 100 && seen.length < 15; i += 1) await sleep(50);
    await sleep(300);
    second.cancel();
    assert.deepEqual(
      seen.map((o) => o.orderId),
      placed,
      'every order, in order, once',
    );
  });

  it('kill -9 of one gateway during a burst loses no acknowledged order', async () => {
    const victim = await spawn();
    const cv = client(victim);
    const acknowledged: Cheese[] = [];
    const burst = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 1000; i += 1) {
        const result = await order(cv, `kill-${w}-${i}`, 'EMMENTAL', 5000);
        if (!result.ok) return;
        acknowledged.push(result.ok);
      }
    });
    for (let i = 0; i < 200 && acknowledged.length < 40; i += 1) await sleep(10);
    victim.child.kill('SIGKILL');
    await Promise.all(burst);
    await victim.exited;
    assert.ok(acknowledged.length >= 40, `only ${acknowledged.length} orders before the kill`);
    // Read back from the shared database itself (GetOrder is the rate-limited method in this suite).
    const ids = acknowledged.map((placed) => `'${placed.orderId}'`).join(',');
    assert.equal(pg.psql(`SELECT count(*) FROM orders WHERE id IN (${ids})`).trim(), String(acknowledged.length));
  });

  it('PostgreSQL stopped and restarted during a burst: UNAVAILABLE with RetryInfo, never INTERNAL, and serving again without a restart', async () => {
    const [ca, cb] = [client(a), client(b)];
    const outcomes: Outcome[] = [];
    let running = true;
    const burst = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; running; i += 1) {
        outcomes.push(await order(w % 2 === 0 ? ca : cb, `outage-${w}-${i}`, 'BRIE', 8000));
        await sleep(20);
      }
    });
    await sleep(400);
    await pg.stop();
    const stoppedAt = outcomes.length;
    await sleep(1500);
    const readyDuring = await Promise.all([readyz(a), readyz(b)]);
    await pg.start();
    // Each gateway serves again by itself: an order through it succeeds and /readyz is 200.
    const recovered = async (gw: GatewayProcess, c: grpc.Client) => {
      for (let i = 0; i < 100; i += 1) {
        if ((await order(c, `recovered-${gw.grpcPort}-${i}`)).ok && (await readyz(gw)) === 200) return true;
        await sleep(100);
      }
      return false;
    };
    const back = await Promise.all([recovered(a, ca), recovered(b, cb)]);
    running = false;
    await Promise.all(burst);
    const codes = count(outcomes.map((o) => o.code ?? 'OK'));
    assert.deepEqual(back, [true, true], 'both gateways serve again without a restart');
    assert.deepEqual(readyDuring, [503, 503], '/readyz is 503 while the store is down');
    assert.ok(outcomes.length > stoppedAt, 'calls were made during the outage');
    assert.ok((codes.UNAVAILABLE ?? 0) > 0, `no UNAVAILABLE seen: ${JSON.stringify(codes)}`);
    assert.deepEqual(
      Object.keys(codes).filter((c) => c !== 'OK' && c !== 'UNAVAILABLE'),
      [],
      `unexpected codes: ${JSON.stringify(codes)}`,
    );
    for (const failed of outcomes.filter((o) => o.code === 'UNAVAILABLE')) {
      assert.ok(failed.retryDelayMs !== undefined && failed.retryDelayMs > 0, `UNAVAILABLE without RetryInfo: ${failed.message}`);
      assert.match(failed.message!, /order store is unavailable/);
    }
  });

  it('a limit of 20 calls/s per caller holds within 10% across both gateways together', async () => {
    const [ca, cb] = [client(a), client(b)];
    let allowed = 0;
    let refused = 0;
    const other: string[] = [];
    const startedAt = performance.now();
    const durationMs = 3000;
    // Several times the limit offered, half through each gateway. (Per-process buckets would let 40/s through.)
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        while (performance.now() - startedAt < durationMs) {
          const result = await outcome(callUnary<Cheese>(w % 2 === 0 ? ca : cb, 'getOrder', { orderId: 'ord_none' }));
          if (result.code === 'NOT_FOUND') allowed += 1;
          else if (result.code === 'RESOURCE_EXHAUSTED') refused += 1;
          else other.push(`${result.code}: ${result.message}`);
          await sleep(25);
        }
      }),
    );
    const elapsedS = (performance.now() - startedAt) / 1000;
    const expected = 5 + 20 * elapsedS; // the burst, then 20/s
    assert.deepEqual(other, []);
    assert.ok(refused > allowed, `the offered load must exceed the limit (allowed ${allowed}, refused ${refused})`);
    assert.ok(
      Math.abs(allowed - expected) <= expected * 0.1,
      `allowed ${allowed} calls in ${elapsedS.toFixed(2)} s; expected ${expected.toFixed(0)} ± 10%`,
    );
  });
});

function count(codes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}
