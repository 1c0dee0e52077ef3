import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { RateLimitStore } from '../../interceptors/rate-limit-store.js';
import type { BucketLimit, TakeResult } from '../../interceptors/token-bucket.js';
import type { Logger } from '../logging/logger.js';

/** `gatehouse_rate_limit_store_errors_total`: decisions Redis could not make, by the fallback applied. */
export const RATE_LIMIT_STORE_ERRORS_METRIC = Object.freeze({
  name: 'gatehouse_rate_limit_store_errors_total',
  help: 'Rate-limit decisions the shared store (Redis) could not make in time or at all, by the decision applied instead (rateLimits.onStoreError).',
});

/** Options for {@link createRedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://`; never logged. */
  url: string;
  /** When Redis cannot decide (down, slow): let the call through, or refuse it with UNAVAILABLE. */
  onStoreError: 'allow' | 'deny';
  /** Most time one decision may add to a call, in ms; past it the fallback applies. */
  budgetMs: number;
  /** Store errors are logged at most once per this many ms (and always counted). */
  errorLogIntervalMs: number;
  /** Prefix of every bucket key. Default `gatehouse:rl:`. */
  keyPrefix?: string;
  registry?: Registry;
  logger?: Pick<Logger, 'warn'>;
}

const SCRIPT = readFileSync(new URL('./gcra.lua', import.meta.url), 'utf8');
const ALLOWED: TakeResult = Object.freeze({ allowed: true });

type GcraRedis = Redis & { gatehouseGcra(key: string, intervalMs: number, burst: number): Promise<[number, number]> };

/**
 * Rate-limit buckets in Redis, shared by every worker and pod: one atomic Lua
 * script per decision (GCRA on Redis's clock). The client never queues or
 * retries a command (a decision that comes late is worthless): when Redis is
 * unreachable or slower than `budgetMs`, `onStoreError` decides, the metric
 * counts it, and one log line per interval says so.
 */
export function createRedisRateLimitStore(options: RedisRateLimitStoreOptions): RateLimitStore {
  const prefix = options.keyPrefix ?? 'gatehouse:rl:';
  const redis = new Redis(options.url, {
    commandTimeout: options.budgetMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Reconnect forever, at most once a second: decisions fall back meanwhile.
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    connectTimeout: 2000,
    lazyConnect: false,
  }) as GcraRedis;
  redis.defineCommand('gatehouseGcra', { numberOfKeys: 1, lua: SCRIPT });
  const fallbackDecision: TakeResult =
    options.onStoreError === 'allow' ? ALLOWED : Object.freeze({ allowed: false, retryAfterMs: 1000, unavailable: true });
  const counter =
    options.registry === undefined
      ? undefined
      : ((options.registry.getSingleMetric(RATE_LIMIT_STORE_ERRORS_METRIC.name) as Counter<'decision'> | undefined) ??
        new Counter({ ...RATE_LIMIT_STORE_ERRORS_METRIC, labelNames: ['decision'], registers: [options.registry] }));
  const counted = counter?.labels(options.onStoreError);
  let lastLogMs = -Infinity;
  let suppressed = 0;
  // ioredis emits 'error' on every failed reconnect; the decisions already count and log what matters.
  redis.on('error', () => undefined);

  const fallback = (error: unknown): TakeResult => {
    counted?.inc();
    const nowMs = performance.now();
    if (nowMs - lastLogMs >= options.errorLogIntervalMs) {
      options.logger?.warn('rate-limit store (Redis) could not decide; applying rateLimits.onStoreError', {
        decision: options.onStoreError,
        problem: error instanceof Error ? error.message.slice(0, 200) : String(error),
        suppressedSinceLastLine: suppressed,
      });
      lastLogMs = nowMs;
      suppressed = 0;
    } else {
      suppressed += 1;
    }
    return fallbackDecision;
  };

  return {
    take(method: string, caller: string, limit: BucketLimit): Promise<TakeResult> | TakeResult {
      if (limit.requestsPerSecond <= 0) return ALLOWED;
      if (redis.status !== 'ready') return fallback(new Error(`Redis connection is ${redis.status}`));
      return redis
        .gatehouseGcra(`${prefix}${method}:${caller}`, 1000 / limit.requestsPerSecond, limit.burst)
        .then(([allowed, retryAfterMs]) => (allowed === 1 ? ALLOWED : { allowed: false, retryAfterMs: Math.max(1, retryAfterMs) }), fallback);
    },
    async close() {
      redis.disconnect();
    },
  };
}
