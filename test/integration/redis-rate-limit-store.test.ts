/** The Redis rate-limit store against a real redis-server: the shared decision, and what happens when Redis is gone. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import type { RateLimitStore } from '../../interceptors/rate-limit-store.js';
import { createTokenBuckets, type TakeResult } from '../../interceptors/token-bucket.js';
import { createRedisRateLimitStore, RATE_LIMIT_STORE_ERRORS_METRIC } from '../../src/rate-limit/redis-rate-limit-store.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const LIMIT = { requestsPerSecond: 10, burst: 5 };

describe('Redis rate-limit store', () => {
  let redis: RedisServer;
  const stores: RateLimitStore[] = [];
  const open = (options: { onStoreError?: 'allow' | 'deny'; registry?: Registry; warnings?: string[] } = {}) => {
    const store = createRedisRateLimitStore({
      url: redis.url,
      onStoreError: options.onStoreError ?? 'allow',
      budgetMs: 200,
      errorLogIntervalMs: 60_000,
      registry: options.registry,
      logger: { warn: (message) => options.warnings?.push(message) },
    });
    stores.push(store);
    return store;
  };
  /** Resolves once decisions come from Redis: only Redis refuses a second call on a 1-token bucket (the fallback allows). */
  const ready = async (store: RateLimitStore) => {
    for (let i = 0; i < 200; i += 1) {
      const key = `probe-${Math.random()}`;
      await store.take('/probe/Ready', key, { requestsPerSecond: 0.001, burst: 1 });
      if (!(await store.take('/probe/Ready', key, { requestsPerSecond: 0.001, burst: 1 })).allowed) return;
      await sleep(25);
    }
    throw new Error('the store never reached Redis');
  };
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close?.()));
    await redis.close();
  });

  it('two stores (two gateways) share one bucket: the burst is granted once, then the rate', async () => {
    const a = open();
    const b = open();
    await Promise.all([ready(a), ready(b)]);
    const results: TakeResult[] = [];
    for (let i = 0; i < 10; i += 1) results.push(await (i % 2 === 0 ? a : b).take('/svc/Method', 'alice', LIMIT));
    assert.equal(results.filter((r) => r.allowed).length, 5, 'burst of 5 across both stores');
    const refused = results.find((r) => !r.allowed);
    assert.ok(refused && !refused.allowed && refused.retryAfterMs > 0 && refused.retryAfterMs <= 100, `retry hint ${JSON.stringify(refused)}`);
    assert.equal((await a.take('/svc/Method', 'bob', LIMIT)).allowed, true, 'another caller has its own bucket');
    assert.equal((await a.take('/svc/Other', 'alice', LIMIT)).allowed, true, 'another method has its own bucket');
    await sleep(220); // two tokens at 10/s
    const later = await Promise.all([
      a.take('/svc/Method', 'alice', LIMIT),
      b.take('/svc/Method', 'alice', LIMIT),
      a.take('/svc/Method', 'alice', LIMIT),
    ]);
    assert.equal(later.filter((r) => r.allowed).length, 2);
  });

  it('Redis down: allow by default, counted in the metric, logged once per interval; back: decides again', async () => {
    const registry = new Registry();
    const warnings: string[] = [];
    const store = open({ registry, warnings });
    await ready(store);
    const counted = async () =>
      (await registry.getSingleMetric(RATE_LIMIT_STORE_ERRORS_METRIC.name)!.get()).values.find((v) => v.labels.decision === 'allow')?.value ?? 0;
    const before = await counted();
    await redis.stop();
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => store.take('/svc/Down', `c${i % 2}`, { requestsPerSecond: 1, burst: 1 })));
    assert.ok(
      during.every((r) => r.allowed),
      'onStoreError allow lets every call through',
    );
    assert.equal((await counted()) - before, 20);
    assert.equal(warnings.length, 1, `one log line per interval, got ${warnings.length}`);
    await redis.start();
    let decided = false;
    for (let i = 0; i < 100 && !decided; i += 1) {
      await sleep(50);
      const first = await store.take('/svc/Back', 'x', { requestsPerSecond: 1, burst: 1 });
      const second = await store.take('/svc/Back', 'x', { requestsPerSecond: 1, burst: 1 });
      decided = first.allowed && !second.allowed;
    }
    assert.ok(decided, 'after Redis came back the limit applies again');
  });

  it('onStoreError deny refuses with `unavailable` and a retry hint', async () => {
    const store = open({ onStoreError: 'deny' });
    await ready(store);
    await redis.stop();
    const result = await store.take('/svc/Deny', 'alice', LIMIT);
    assert.deepEqual(result, { allowed: false, retryAfterMs: 1000, unavailable: true });
    await redis.start();
  });

  it('the in-memory buckets (no store configured) give the same decisions, per process', () => {
    const memory = createTokenBuckets();
    const results = Array.from({ length: 8 }, () => memory.take('alice', LIMIT));
    assert.equal(results.filter((r) => r.allowed).length, 5);
  });
});
