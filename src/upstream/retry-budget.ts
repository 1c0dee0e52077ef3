/** Options for {@link createRetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed per call made, e.g. 0.2 for at most 20% extra attempts. */
  ratio: number;
  /** Most retries saved up for a burst of failures. Default 10. */
  maxTokens?: number;
}

/** A retry budget shared by a route's calls. */
export interface RetryBudget {
  /** Notes a call (its first attempt): it earns `ratio` of a retry. */
  onCall(): void;
  /** Spends one retry if the budget has one. */
  tryRetry(): boolean;
}

/**
 * Token bucket in units of retries: each call deposits `ratio`, each retry
 * takes one, so retries never exceed `ratio` times the calls (plus nothing:
 * the bucket starts empty). Keeps a failing upstream from being hit by a
 * retry storm on top of its load.
 */
export function createRetryBudget(options: RetryBudgetOptions): RetryBudget {
  const max = options.maxTokens ?? 10;
  let tokens = 0;
  return {
    onCall() {
      tokens = Math.min(max, tokens + options.ratio);
    },
    tryRetry() {
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
