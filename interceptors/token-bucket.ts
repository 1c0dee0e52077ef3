/** A token bucket's shape. */
export interface BucketLimit {
  /** Tokens added per second: the sustained rate. 0 means unlimited (no bucket is kept). */
  requestsPerSecond: number;
  /** Bucket capacity: how many calls may come at once after a quiet spell. At least 1. */
  burst: number;
}

/**
 * What {@link TokenBuckets.take} (or a RateLimitStore) decided. `unavailable`:
 * refused because a shared store could not decide (its `onStoreError: deny`).
 */
export type TakeResult = { allowed: true } | { allowed: false; retryAfterMs: number; unavailable?: boolean };

const ALLOWED: TakeResult = Object.freeze({ allowed: true });

interface Bucket {
  tokens: number;
  updatedMs: number;
  limit: BucketLimit;
}

/** Options for {@link createTokenBuckets}. */
export interface TokenBucketsOptions {
  /**
   * Most buckets kept at once, bounding memory whatever the number of callers.
   * Past it, buckets that have refilled completely are dropped (forgetting a full
   * bucket changes nothing), then the oldest. Default 100000.
   */
  maxBuckets?: number;
  /** Monotonic clock in ms. Default `performance.now`. */
  nowMs?: () => number;
}

/** Token buckets keyed by any string (identity and method). */
export interface TokenBuckets {
  /** Takes one token from `key`'s bucket, refilled for the time since its last use. */
  take(key: string, limit: BucketLimit): TakeResult;
  /** Buckets currently kept. */
  readonly size: number;
}

/** Creates an empty set of token buckets; state lives in the returned object only. */
export function createTokenBuckets(options: TokenBucketsOptions = {}): TokenBuckets {
  const maxBuckets = options.maxBuckets ?? 100_000;
  const now = options.nowMs ?? (() => performance.now());
  const buckets = new Map<string, Bucket>();

  const evict = (nowMs: number) => {
    for (const [key, bucket] of buckets) {
      const limit = bucket.limit;
      if (bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * limit.requestsPerSecond >= limit.burst) buckets.delete(key);
    }
    // Still full of busy callers: drop the oldest (Map keeps insertion order).
    for (const key of buckets.keys()) {
      if (buckets.size < maxBuckets) break;
      buckets.delete(key);
    }
  };

  return {
    take(key, limit) {
      if (limit.requestsPerSecond <= 0) return ALLOWED;
      const nowMs = now();
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= maxBuckets) evict(nowMs);
        bucket = { tokens: limit.burst, updatedMs: nowMs, limit };
        buckets.set(key, bucket);
      } else {
        bucket.tokens = Math.min(limit.burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * limit.requestsPerSecond);
        bucket.updatedMs = nowMs;
        bucket.limit = limit;
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return ALLOWED;
      }
      return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / limit.requestsPerSecond) * 1000) };
    },
    get size() {
      return buckets.size;
    },
  };
}
