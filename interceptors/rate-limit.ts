import { status as Status } from '@grpc/grpc-js';
import { Counter, type Registry } from 'prom-client';
import type { GatewayCall, Step } from './gateway-call.js';
import type { PartialStatus } from './grpc-compat.js';
import { methodNames } from './method-names.js';
import { resolveMethodSettings, type MethodOverrides } from './method-policy.js';
import { plainRejection, type RejectionToStatus } from './rejection.js';
import type { RateLimitStore } from './rate-limit-store.js';
import { createTokenBuckets, type BucketLimit, type TakeResult } from './token-bucket.js';

/** `gatehouse_rate_limited_total`: calls refused by a rate limit or the per-connection stream cap. */
export const RATE_LIMITED_METRIC = Object.freeze({
  name: 'gatehouse_rate_limited_total',
  help: 'Calls refused with RESOURCE_EXHAUSTED by a per-identity rate limit or the per-connection concurrent stream cap.',
});

/** Options for {@link createRateLimitStep}. */
export interface RateLimitOptions {
  /** Bucket for every method without an override; `requestsPerSecond: 0` leaves methods unlimited. */
  defaults: BucketLimit;
  /** Per service (`package.Service`) or method (`package.Service/Method`) overrides. */
  methods?: MethodOverrides<BucketLimit>;
  /** Most buckets kept at once per method (memory bound) by the default in-memory store. Default 100000. */
  maxBuckets?: number;
  /**
   * Where buckets live. Default: in this process's memory, so the limit holds
   * per process; a shared store (Redis, built in src/) makes it hold across
   * workers and pods, and may answer with a promise (the call is held meanwhile).
   */
  store?: RateLimitStore;
  /** Where `gatehouse_rate_limited_total` lives; omitted, nothing is counted. */
  registry?: Registry;
  /** Builds the RESOURCE_EXHAUSTED status with RetryInfo (rich details come from src/). Default: plain status. */
  reject?: RejectionToStatus;
  /** Monotonic clock in ms for the default in-memory store. Default `performance.now`. */
  nowMs?: () => number;
}

/** Counts one refusal of one method; label set resolved once per method. */
export type RateLimitedCounter = (path: string) => () => void;

/** The refusal counter on `registry`, or a no-op without one; created once per registry. */
export function rateLimitedCounter(registry: Registry | undefined): RateLimitedCounter {
  if (registry === undefined) return () => () => undefined;
  const counter =
    (registry.getSingleMetric(RATE_LIMITED_METRIC.name) as Counter<'grpc_service' | 'grpc_method'> | undefined) ??
    new Counter({ ...RATE_LIMITED_METRIC, labelNames: ['grpc_service', 'grpc_method'], registers: [registry] });
  return (path) => {
    const names = methodNames(path, false, false);
    const child = counter.labels({ grpc_service: names.service, grpc_method: names.method });
    return () => child.inc();
  };
}

/**
 * A token bucket per caller and method. The caller is the token's subject,
 * else the client certificate's identity, else the peer address; so this step
 * belongs after authentication. A call over the limit gets RESOURCE_EXHAUSTED
 * with RetryInfo saying when a token will be there. Unlimited methods get no
 * hook at all.
 */
export function createRateLimitStep(options: RateLimitOptions): Step {
  const reject = options.reject ?? plainRejection;
  const countRefusal = rateLimitedCounter(options.registry);
  const store = options.store;
  return {
    name: 'rateLimit',
    forMethod(names) {
      const path = names.path;
      const limit = Object.freeze(resolveMethodSettings(path, options.defaults, options.methods));
      if (limit.requestsPerSecond <= 0) return undefined;
      const refused = countRefusal(path);
      // Without a shared store, this method's own in-memory buckets, found once here rather than by path per call.
      const buckets = store === undefined ? createTokenBuckets({ maxBuckets: options.maxBuckets, nowMs: options.nowMs }) : undefined;
      const decide = (result: TakeResult): PartialStatus | undefined => {
        if (result.allowed) return undefined;
        if (result.unavailable) {
          // The shared store could not decide and rateLimits.onStoreError is deny.
          return reject({
            code: Status.UNAVAILABLE,
            reason: 'RATE_LIMITER_UNAVAILABLE',
            message: `the shared rate limiter cannot decide at the moment and this gateway refuses calls then; retry in ${result.retryAfterMs} ms`,
            retryDelayMs: result.retryAfterMs,
          });
        }
        refused();
        return reject({
          code: Status.RESOURCE_EXHAUSTED,
          reason: 'RATE_LIMITED',
          message:
            `rate limit for ${path} exceeded: at most ${limit.requestsPerSecond} calls per second ` +
            `(bursts of ${limit.burst}) per caller; retry in ${result.retryAfterMs} ms`,
          retryDelayMs: result.retryAfterMs,
          metadata: { requestsPerSecond: String(limit.requestsPerSecond), burst: String(limit.burst) },
        });
      };
      // Stores never reject (they apply their own fallback); a bug there must not leave the call hanging.
      const allowOnBug = () => undefined;
      return {
        admit(call: GatewayCall) {
          const caller = call.principal?.subject ?? call.peer?.identity ?? call.getConnectionInfo().remoteAddress ?? 'unknown';
          const result = buckets !== undefined ? buckets.take(caller, limit) : store!.take(path, caller, limit);
          return result instanceof Promise ? result.then(decide, allowOnBug) : decide(result);
        },
      };
    },
  };
}
