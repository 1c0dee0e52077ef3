/**
 * The rate-limit layer with buckets in a real Redis, seen from clients of one
 * in-process gateway: requests held while Redis decides still reach the
 * handler whole (a client stream too), refusals carry RetryInfo, and with
 * `onStoreError: deny` a Redis outage is UNAVAILABLE, never a hang.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callClientStream, callUnary } from '../../src/client/grpc-client.js';
import { assertRejects } from '../helpers/assert-status.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';

describe('rate limits in Redis through the gateway', () => {
  let redis: RedisServer;
  let gw: TestGateway;
  before(async () => {
    redis = await startRedis();
    gw = await startGateway({
      overrides: {
        'rateLimits.redisUrl': redis.url,
        'rateLimits.redisBudgetMs': 250,
        'rateLimits.onStoreError': 'deny',
        'rateLimits.methods': {
          [`${CHEESE}/GetOrder`]: { requestsPerSecond: 0.5, burst: 2 },
          [`${CHEESE}/PlaceOrders`]: { requestsPerSecond: 100, burst: 100 },
        },
      },
    });
    // The gateway's Redis connection comes up just after warm-up; until then `deny` refuses everything.
    for (let i = 0; i < 100; i += 1) {
      try {
        await callClientStream(gw.client(CHEESE), 'placeOrders', []);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  });
  after(async () => {
    await gw.close();
    await redis.close();
  });

  it('a client stream held while Redis decides reaches the handler with every message', async () => {
    const summary = await callClientStream<{ accepted: number }>(
      gw.client(CHEESE),
      'placeOrders',
      [1, 2, 3].map((i) => ({ type: 'BRIE', age: 5, idempotencyKey: `held-${i}` })),
    );
    assert.equal(summary.accepted, 3);
  });

  it('over the shared limit: RESOURCE_EXHAUSTED with RetryInfo', async () => {
    const client = gw.client(CHEESE);
    await assertRejects(callUnary(client, 'getOrder', { orderId: 'ord_x' }), 'NOT_FOUND');
    await assertRejects(callUnary(client, 'getOrder', { orderId: 'ord_x' }), 'NOT_FOUND');
    const { details } = await assertRejects(
      callUnary(client, 'getOrder', { orderId: 'ord_x' }),
      'RESOURCE_EXHAUSTED',
      /at most 0.5 calls per second/,
    );
    assert.equal(details?.errorInfo?.reason, 'RATE_LIMITED');
    assert.ok((details?.retryDelayMs ?? 0) > 1000);
  });

  it('Redis down with onStoreError deny: UNAVAILABLE with RetryInfo at once', async () => {
    await redis.stop();
    const startedAt = performance.now();
    const { details } = await assertRejects(
      callUnary(gw.client(CHEESE, 'bob'), 'getOrder', { orderId: 'ord_x' }),
      'UNAVAILABLE',
      /shared rate limiter cannot decide/,
    );
    assert.equal(details?.errorInfo?.reason, 'RATE_LIMITER_UNAVAILABLE');
    assert.ok((details?.retryDelayMs ?? 0) > 0);
    assert.ok(performance.now() - startedAt < 2000, 'the refusal came at once');
    await redis.start();
  });
});
