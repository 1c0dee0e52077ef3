import { status as Status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import { Counter, type Registry } from 'prom-client';
import { peekCallState } from './call-state.js';
import { ForwardingCall } from './forwarding-call.js';
import { methodNames } from './method-names.js';
import { methodSettingsCache, type MethodOverrides } from './method-policy.js';
import { plainRejection, type RejectionToStatus } from './rejection.js';
import { createMemoryRateLimitStore, type RateLimitStore } from './rate-limit-store.js';
import type { BucketLimit, TakeResult } from './token-bucket.js';

/** `gatehouse_rate_limited_total`: calls refused by a rate limit or the per-connection stream cap. */
export const RATE_LIMITED_METRIC = Object.freeze({
  name: 'gatehouse_rate_limited_total',
  help: 'Calls refused with RESOURCE_EXHAUSTED by a per-identity rate limit or the per-connection concurrent stream cap.',
});

/** Options for {@link createRateLimitInterceptor}. */
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
   * workers and pods.
   */
  store?: RateLimitStore;
  /** Where `gatehouse_rate_limited_total` lives; omitted, nothing is counted. */
  registry?: Registry;
  /** Builds the RESOURCE_EXHAUSTED status with RetryInfo (rich details come from src/). Default: plain status. */
  reject?: RejectionToStatus;
  /** Monotonic clock in ms. Default `performance.now`. */
  nowMs?: () => number;
}

/** Per-method label set of the refusal counter, built once. */
export type RateLimitedCounter = (path: string) => void;

/** The refusal counter on `registry`, or a no-op without one; created once per registry. */
export function rateLimitedCounter(registry: Registry | undefined): RateLimitedCounter {
  if (registry === undefined) return () => undefined;
  const counter = (registry.getSingleMetric(RATE_LIMITED_METRIC.name) as Counter<'grpc_service' | 'grpc_method'> | undefined)
    ?? new Counter({ ...RATE_LIMITED_METRIC, labelNames: ['grpc_service', 'grpc_method'], registers: [registry] });
  return (path) => {
    const names = methodNames(path, false, false);
    counter.inc({ grpc_service: names.service, grpc_method: names.method });
  };
}

/**
 * A token bucket per caller and method. The caller is the token's subject,
 * else the client certificate's identity, else the peer address; so this layer
 * belongs after authentication. A call over the limit gets RESOURCE_EXHAUSTED
 * with RetryInfo saying when a token will be there.
 */
export function createRateLimitInterceptor(options: RateLimitOptions): ServerInterceptor {
  const limitFor = methodSettingsCache(options.defaults, options.methods);
  const store = options.store ?? createMemoryRateLimitStore({ maxBuckets: options.maxBuckets, nowMs: options.nowMs });
  const reject = options.reject ?? plainRejection;
  const countRefusal = rateLimitedCounter(options.registry);

  /**
   * A shared store answers asynchronously: like authentication, the layer then
   * holds the request's messages and half-close until the decision, and drops
   * them when the call is refused, so the handler never starts on it.
   */
  class RateLimitCall extends ForwardingCall {
    /** 0 passing through, 1 waiting for the store, 2 refused. */
    private phase: 0 | 1 | 2 = 0;
    private held: unknown[] | undefined;
    private halfClosed = false;

    constructor(
      next: ConstructorParameters<typeof ForwardingCall>[0],
      private readonly path: string,
      private readonly limit: BucketLimit,
    ) {
      super(next);
    }

    override onReceiveMetadata(metadata: Metadata): void {
      const state = peekCallState(metadata);
      const caller = state?.principal?.subject ?? state?.peer?.identity ?? this.next.getConnectionInfo().remoteAddress ?? 'unknown';
      const result = store.take(this.path, caller, this.limit);
      if (!(result instanceof Promise)) {
        this.decide(result, metadata);
        return;
      }
      this.phase = 1;
      // Stores never reject (they apply their own fallback); a bug there must not leave the call hanging.
      result.then((settled) => this.decide(settled, metadata), () => this.decide({ allowed: true }, metadata));
    }

    override onReceiveMessage(message: unknown): void {
      if (this.phase === 0) this.listener.onReceiveMessage(message);
      else if (this.phase === 1) (this.held ??= []).push(message);
    }

    override onReceiveHalfClose(): void {
      if (this.phase === 0) this.listener.onReceiveHalfClose();
      else if (this.phase === 1) this.halfClosed = true;
    }

    private decide(result: TakeResult, metadata: Metadata): void {
      if (result.allowed) {
        const wasWaiting = this.phase === 1;
        this.phase = 0;
        this.listener.onReceiveMetadata(metadata);
        if (!wasWaiting) return;
        const held = this.held;
        this.held = undefined;
        if (held) for (const message of held) this.listener.onReceiveMessage(message);
        if (this.halfClosed) this.listener.onReceiveHalfClose();
        return;
      }
      this.phase = 2;
      this.held = undefined;
      if (result.unavailable) {
        this.next.sendStatus(reject({
          code: Status.UNAVAILABLE,
          reason: 'RATE_LIMITER_UNAVAILABLE',
          message: `the shared rate limiter cannot decide at the moment and this gateway refuses calls then; retry in ${result.retryAfterMs} ms`,
          retryDelayMs: result.retryAfterMs,
        }));
        return;
      }
      countRefusal(this.path);
      this.next.sendStatus(reject({
        code: Status.RESOURCE_EXHAUSTED,
        reason: 'RATE_LIMITED',
        message: `rate limit for ${this.path} exceeded: at most ${this.limit.requestsPerSecond} calls per second ` +
          `(bursts of ${this.limit.burst}) per caller; retry in ${result.retryAfterMs} ms`,
        retryDelayMs: result.retryAfterMs,
        metadata: { requestsPerSecond: String(this.limit.requestsPerSecond), burst: String(this.limit.burst) },
      }));
    }
  }

  return (method, call) => {
    const limit = limitFor(method.path);
    // Unlimited methods get no layer at all.
    if (limit.requestsPerSecond <= 0) return call as ReturnType<ServerInterceptor>;
    return new RateLimitCall(call, method.path, limit).asInterceptingCall();
  };
}
