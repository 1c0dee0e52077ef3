import { createTokenBuckets, type BucketLimit, type TakeResult, type TokenBucketsOptions } from './token-bucket.js';

/**
 * Where rate-limit buckets live. The decision for one call is `take`: one
 * token from the bucket of `caller` on `method`. In-memory buckets
 * ({@link createMemoryRateLimitStore}) answer synchronously and are per
 * process; a shared store (src/rate-limit/redis-rate-limit-store.ts) answers
 * with a promise and holds across processes and pods. Implementations never
 * reject: a store that cannot decide returns its configured fallback.
 */
export interface RateLimitStore {
  /** Takes one token; `retryAfterMs` says when one will be there. `unavailable` marks a refusal because the store could not decide. */
  take(method: string, caller: string, limit: BucketLimit): TakeResult | Promise<TakeResult>;
  /** Releases connections; the in-memory store has none. */
  close?(): Promise<void>;
}

/** Options for {@link createMemoryRateLimitStore}. */
export type MemoryRateLimitStoreOptions = TokenBucketsOptions;

/**
 * Token buckets in this process's memory: exact and free, but a caller gets
 * the limit once per process (per worker, per pod).
 */
export function createMemoryRateLimitStore(options: MemoryRateLimitStoreOptions = {}): RateLimitStore {
  // One bucket table per method, keyed by caller alone: no key string to build per call.
  const bucketsByMethod = new Map<string, ReturnType<typeof createTokenBuckets>>();
  return {
    take(method, caller, limit) {
      let buckets = bucketsByMethod.get(method);
      if (buckets === undefined) {
        buckets = createTokenBuckets(options);
        bucketsByMethod.set(method, buckets);
      }
      return buckets.take(caller, limit);
    },
  };
}
