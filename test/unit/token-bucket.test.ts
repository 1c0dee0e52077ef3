import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTokenBuckets } from '../../interceptors/token-bucket.js';
import { resolveMethodSettings } from '../../interceptors/method-policy.js';

describe('token buckets', () => {
  it('allows a burst, then one call per refill interval, and says when to retry', () => {
    let nowMs = 0;
    const buckets = createTokenBuckets({ nowMs: () => nowMs });
    const limit = { requestsPerSecond: 2, burst: 3 };
    assert.deepEqual(
      [1, 2, 3].map(() => buckets.take('alice', limit).allowed),
      [true, true, true],
    );
    const refused = buckets.take('alice', limit);
    assert.equal(refused.allowed, false);
    assert.equal(!refused.allowed && refused.retryAfterMs, 500);
    nowMs = 250;
    const stillRefused = buckets.take('alice', limit);
    assert.equal(!stillRefused.allowed && stillRefused.retryAfterMs, 250);
    nowMs = 500;
    assert.equal(buckets.take('alice', limit).allowed, true);
    assert.equal(buckets.take('bob', limit).allowed, true, 'buckets are per key');
    nowMs = 60_000;
    assert.deepEqual(
      [1, 2, 3, 4].map(() => buckets.take('alice', limit).allowed),
      [true, true, true, false],
      'refill stops at the burst',
    );
  });

  it('a rate of 0 is unlimited and keeps no bucket', () => {
    const buckets = createTokenBuckets();
    for (let i = 0; i < 100; i++) assert.equal(buckets.take(`k${i}`, { requestsPerSecond: 0, burst: 1 }).allowed, true);
    assert.equal(buckets.size, 0);
  });

  it('keeps at most maxBuckets, dropping full ones first', () => {
    let nowMs = 0;
    const buckets = createTokenBuckets({ maxBuckets: 10, nowMs: () => nowMs });
    const limit = { requestsPerSecond: 1, burst: 5 };
    for (let i = 0; i < 10; i++) buckets.take(`caller-${i}`, limit);
    nowMs = 10_000; // every bucket has refilled: forgetting them changes nothing
    buckets.take('newcomer', limit);
    assert.equal(buckets.size, 1);
    for (let i = 0; i < 50; i++) buckets.take(`busy-${i}`, limit);
    assert.ok(buckets.size <= 10, `kept ${buckets.size} buckets`);
  });
});

describe('per-method settings', () => {
  const defaults = { defaultMs: 30_000, maxMs: 600_000, minBudgetMs: 5 };
  const overrides = {
    'cheesefarm.v1.CheeseService': { defaultMs: 1000 },
    'cheesefarm.v1.CheeseService/WatchOrders': { defaultMs: 0, maxMs: 0 },
    '/gatehouse.tts.v1.TextToSpeech/Synthesize': { minBudgetMs: 50 },
  };
  it('method over service over defaults, field by field', () => {
    assert.deepEqual(resolveMethodSettings('/cheesefarm.v1.CheeseService/Order', defaults, overrides), {
      defaultMs: 1000,
      maxMs: 600_000,
      minBudgetMs: 5,
    });
    assert.deepEqual(resolveMethodSettings('/cheesefarm.v1.CheeseService/WatchOrders', defaults, overrides), {
      defaultMs: 0,
      maxMs: 0,
      minBudgetMs: 5,
    });
    assert.deepEqual(resolveMethodSettings('/gatehouse.tts.v1.TextToSpeech/Synthesize', defaults, overrides), { ...defaults, minBudgetMs: 50 });
    assert.deepEqual(resolveMethodSettings('/grpc.health.v1.Health/Check', defaults, overrides), defaults);
  });
});
