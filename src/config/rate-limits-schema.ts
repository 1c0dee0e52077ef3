import { z } from 'zod';
import { methodKey } from './deadlines-schema.js';

/** A token bucket; `requestsPerSecond: 0` means unlimited. */
const bucketFields = {
  /** Sustained calls per second per caller and method; 0 means unlimited. */
  requestsPerSecond: z.number().min(0),
  /** Calls allowed at once after a quiet spell (bucket size), at least 1. */
  burst: z.number().int().min(1),
};

/** The `rateLimits` config section (interceptors/rate-limit.ts, interceptors/stream-cap.ts). */
export const RateLimitsSchema = z
  .strictObject({
    /**
     * Token bucket per caller (token subject, else certificate identity) and method,
     * for methods without an override. Default unlimited (`requestsPerSecond: 0`),
     * since sensible rates depend on the deployment: set them per method below.
     */
    default: z.strictObject(bucketFields).default({ requestsPerSecond: 0, burst: 1 }),
    /** Overrides by service or method, field by field. Default none. */
    methods: z.record(methodKey, z.strictObject(bucketFields).partial()).default({}),
    /**
     * Redis URL (`redis://[:password@]host:6379[/db]`, `rediss://` for TLS) that moves the buckets to Redis,
     * so the limits hold across workers and pods. Absent (default): buckets live in each process's memory and a
     * caller gets the limit once per process. Environment: GATEHOUSE_RATE_LIMITS__REDIS_URL. Never logged.
     */
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\/\S*$/, 'must be a redis:// or rediss:// URL')
      .optional(),
    /** When Redis cannot decide (unreachable, slower than `redisBudgetMs`): `allow` the call (default) or `deny` it with UNAVAILABLE. */
    onStoreError: z.enum(['allow', 'deny']).default('allow'),
    /** Most time a Redis decision may add to a call, in ms; past it `onStoreError` applies. Default 5. */
    redisBudgetMs: z.number().int().min(1).max(1000).default(5),
    /** Redis failures are counted always but logged at most once per this many ms. Default 10000. */
    storeErrorLogIntervalMs: z.number().int().min(0).default(10_000),
    /** Most buckets kept in memory at once per method (one per active caller). Default 100000. */
    maxBuckets: z.number().int().min(1).default(100_000),
    /**
     * Most calls in flight at once on one client connection; more get
     * RESOURCE_EXHAUSTED with a clear message. Default 256; 0 disables.
     */
    maxConcurrentStreamsPerConnection: z.number().int().min(0).default(256),
  })
  .prefault({});

/** The validated `rateLimits` section. */
export type RateLimitsConfig = z.infer<typeof RateLimitsSchema>;
