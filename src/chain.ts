import type * as grpc from '@grpc/grpc-js';
import type { TextMapPropagator, Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Registry } from 'prom-client';
import { createAccessLogInterceptor } from '../interceptors/access-log.js';
import { createCallOutcomeInterceptor } from '../interceptors/call-outcome.js';
import { createDeadlineInterceptor } from '../interceptors/deadline.js';
import { createMetricsInterceptor } from '../interceptors/metrics.js';
import { createRateLimitInterceptor } from '../interceptors/rate-limit.js';
import type { RateLimitStore } from '../interceptors/rate-limit-store.js';
import { inServices, not, select } from '../interceptors/select.js';
import { createStatusInterceptor } from '../interceptors/status.js';
import { createMetadataLimitsInterceptor } from '../interceptors/metadata-limits.js';
import { createStreamCapInterceptor } from '../interceptors/stream-cap.js';
import { createTracingInterceptor } from '../interceptors/tracing.js';
import { buildSecurity } from './auth/build-security.js';
import { createStatusNormalizer } from './status/normalize-status.js';
import { rejectionToStatus } from './status/rejection-status.js';
import type { Config } from './config/schema.js';
import type { HealthState } from './health/health-state.js';
import type { Logger } from './logging/logger.js';
import type { HostedService } from './services/hosted-service.js';

/** Everything the interceptors are built from; each takes only what it needs. */
export interface ChainDependencies {
  config: Config;
  registry: Registry;
  logger: Logger;
  health: HealthState;
  /** Every service on the main listener, including health and reflection, for per-method series and policy. */
  services: readonly Pick<HostedService, 'name' | 'definition'>[];
  /** Tracing from src/telemetry/; default no SDK (incoming trace ids still reach the logs through W3C Trace Context). */
  telemetry?: { tracer: Tracer; propagator: TextMapPropagator; sdkEnabled: boolean };
  /** Where rate-limit buckets live (src/rate-limit/build-rate-limit-store.ts); default in this process's memory. */
  rateLimitStore?: RateLimitStore;
  /** The server records message sizes (interceptors/message-sizes.ts), so access lines carry bytes in and out. */
  messageBytes?: boolean;
}

/** Services that every client, authenticated or not, may call: probes and tooling. */
export const INFRASTRUCTURE_SERVICES = Object.freeze([
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
]);

/**
 * The one ordered interceptor list of the main listener, outermost first.
 * Order matters: tracing must wrap everything so every other layer can log the
 * trace id; metrics and logging must see the final status, including the
 * rejections auth and rate limiting produce; deadlines apply before any work.
 */
export function buildInterceptorChain(deps: ChainDependencies): grpc.ServerInterceptor[] {
  const { config, registry, logger } = deps;
  const applicationOnly = not(inServices(INFRASTRUCTURE_SERVICES));
  // One status mapping for every layer that writes or passes statuses (src/status/normalize-status.ts).
  const normalize = createStatusNormalizer(config.server);
  const security = buildSecurity({ config, registry, logger, services: deps.services, exemptServices: INFRASTRUCTURE_SERVICES });
  return [
    // Call outcome: first, because it wraps grpc-js's own call object. grpc-js ends some calls itself (its deadline,
    // oversized or undecodable messages) without any interceptor's sendStatus seeing it; this records what was
    // really written, for metrics, logs and spans, and gives those statuses clear messages and rich details.
    createCallOutcomeInterceptor({ normalize }),
    // Tracing: one SERVER span per call, child of an incoming traceparent; puts the trace id on the call state
    // before any other layer runs, so logs and INTERNAL replies carry it. Near-free without an SDK.
    createTracingInterceptor({
      tracer: deps.telemetry?.sdkEnabled ? deps.telemetry.tracer : undefined,
      propagator: deps.telemetry?.propagator ?? new W3CTraceContextPropagator(),
    }),
    // Metrics: go-grpc-middleware's series for every call, refusals below included; series exist from start.
    createMetricsInterceptor({ registry, services: deps.services.map((service) => service.definition) }),
    // Access log: one line per call when it ends, with the final code and, for bugs, the cause under its reference id.
    ...(config.logging.accessLog
      ? [createAccessLogInterceptor({ sink: logger, codeLevels: config.logging.accessLogLevels, messageBytes: deps.messageBytes })]
      : []),
    // Status: every non-OK status leaving the layers below carries grpc-status-details-bin; UNKNOWN becomes INTERNAL.
    createStatusInterceptor({ normalize }),
    // Metadata limits: entries and bytes per call, RESOURCE_EXHAUSTED naming them (Node would reset the stream).
    createMetadataLimitsInterceptor({ maxEntries: config.server.maxMetadataEntries, maxBytes: config.server.maxMetadataBytes, reject: rejectionToStatus }),
    // Deadline: default, clamp and minimum budget per method, before any work; the handler's signal fires at it.
    createDeadlineInterceptor({ defaults: config.deadlines, methods: config.deadlines.methods, reject: rejectionToStatus }),
    // Authentication: the client certificate's identity and, when sent, a verified bearer token (RFC 8705 binding
    // checked) on the call state; the token header is removed here. Probes and tooling exempt.
    select(applicationOnly, security.authentication),
    // Authorization: the per-method policy (config/policy.yaml) on that identity and token; unknown methods denied.
    select(applicationOnly, security.authorization),
    // Concurrent calls per client connection, with a clear RESOURCE_EXHAUSTED (probes and tooling exempt).
    select(applicationOnly, createStreamCapInterceptor({
      maxConcurrentStreamsPerConnection: config.rateLimits.maxConcurrentStreamsPerConnection, registry, reject: rejectionToStatus,
    })),
    // Rate limit: token bucket per caller and method (in Redis when configured, shared by every process); after
    // authentication, which names the caller.
    select(applicationOnly, createRateLimitInterceptor({
      defaults: config.rateLimits.default, methods: config.rateLimits.methods, maxBuckets: config.rateLimits.maxBuckets, registry,
      reject: rejectionToStatus, store: deps.rateLimitStore,
    })),
  ];
}

/**
 * The interceptors of the plaintext health-only listener: only the
 * call-outcome layer with the one status mapping, so statuses grpc-js writes
 * there (an undecodable or oversized request, a malformed grpc-timeout, a
 * second request message) get Gatehouse's words and details as on the main
 * listener. Health needs no auth, limits or access log.
 */
export function buildHealthListenerChain(config: Config): grpc.ServerInterceptor[] {
  return [createCallOutcomeInterceptor({ normalize: createStatusNormalizer(config.server) })];
}
