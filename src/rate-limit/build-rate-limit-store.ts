import type { Registry } from 'prom-client';
import type { RateLimitStore } from '../../interceptors/rate-limit-store.js';
import type { RateLimitsConfig } from '../config/rate-limits-schema.js';
import type { Logger } from '../logging/logger.js';
import { createRedisRateLimitStore } from './redis-rate-limit-store.js';

/**
 * The configured rate-limit store: Redis when `rateLimits.redisUrl` is set (shared by every process), else
 * undefined: the rate limit step then keeps its buckets in this process's memory (per process).
 */
export function buildRateLimitStore(config: RateLimitsConfig, deps: { registry: Registry; logger: Logger }): RateLimitStore | undefined {
  if (config.redisUrl === undefined) return undefined;
  return createRedisRateLimitStore({
    url: config.redisUrl,
    onStoreError: config.onStoreError,
    budgetMs: config.redisBudgetMs,
    errorLogIntervalMs: config.storeErrorLogIntervalMs,
    registry: deps.registry,
    logger: deps.logger,
  });
}
