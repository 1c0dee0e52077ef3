import type { Registry } from 'prom-client';
import { createMemoryRateLimitStore, type RateLimitStore } from '../../interceptors/rate-limit-store.js';
import type { RateLimitsConfig } from '../config/rate-limits-schema.js';
import type { Logger } from '../logging/logger.js';
import { createRedisRateLimitStore } from './redis-rate-limit-store.js';

/** The configured rate-limit store: Redis when `rateLimits.redisUrl` is set (shared), else in memory (per process). */
export function buildRateLimitStore(config: RateLimitsConfig, deps: { registry: Registry; logger: Logger }): RateLimitStore {
  if (config.redisUrl === undefined) return createMemoryRateLimitStore({ maxBuckets: config.maxBuckets });
  return createRedisRateLimitStore({
    url: config.redisUrl, onStoreError: config.onStoreError, budgetMs: config.redisBudgetMs,
    errorLogIntervalMs: config.storeErrorLogIntervalMs, registry: deps.registry, logger: deps.logger,
  });
}
