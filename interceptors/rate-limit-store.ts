import type { BucketLimit, TakeResult } from './token-bucket.js';

/**
 * Where rate-limit buckets live. The decision for one call is `take`: one
 * token from the bucket of `caller` on `method`. Without a store, the rate
 * limit step keeps token buckets per method in this process's memory
 * (token-bucket.ts: synchronous, per process); a shared store
 * (src/rate-limit/redis-rate-limit-store.ts) answers with a promise and holds across processes and pods. Implementations never
 * reject: a store that cannot decide returns its configured fallback.
 */
export interface RateLimitStore {
  /** Takes one token; `retryAfterMs` says when one will be there. `unavailable` marks a refusal because the store could not decide. */
  take(method: string, caller: string, limit: BucketLimit): TakeResult | Promise<TakeResult>;
  /** Releases connections. */
  close?(): Promise<void>;
}
