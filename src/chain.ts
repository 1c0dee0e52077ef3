import type * as grpc from '@grpc/grpc-js';
import type { TextMapPropagator, Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { createAccessLogStep } from '../interceptors/access-log.js';
import { createOutcomeStep } from '../interceptors/call-outcome.js';
import { createDeadlineStep } from '../interceptors/deadline.js';
import { createGatewayInterceptor, type Step, type StepName } from '../interceptors/gateway-call.js';
import { methodsOf } from '../interceptors/method-names.js';
import { createMetadataLimitsStep } from '../interceptors/metadata-limits.js';
import { createMetricsStep } from '../interceptors/metrics.js';
import { createPeerCache, type ForwardedCertificates } from '../interceptors/peer-cache.js';
import { createRateLimitStep } from '../interceptors/rate-limit.js';
import type { RateLimitStore } from '../interceptors/rate-limit-store.js';
import { inServices, not, onlyFor } from '../interceptors/select.js';
import { createStatusStep } from '../interceptors/status.js';
import { createStreamCapStep } from '../interceptors/stream-cap.js';
import { createTracingStep } from '../interceptors/tracing.js';
import { buildSecurity, type Security } from './auth/build-security.js';
import type { Config } from './config/schema.js';
import type { Logger } from './logging/logger.js';
import type { HostedService } from './services/hosted-service.js';
import { createStatusNormalizer } from './status/normalize-status.js';
import { rejectionToStatus } from './status/rejection-status.js';

/** Everything the steps are built from; each takes only what it needs. */
export interface ChainDependencies {
  config: Config;
  registry: Registry;
  logger: Logger;
  /** Every service on the main listener, including health and reflection, for per-method series, plans and policy. */
  services: readonly Pick<HostedService, 'name' | 'definition'>[];
  /** Tracing from src/telemetry/; default no SDK (incoming trace ids still reach the logs). */
  telemetry?: { tracer: Tracer; propagator: TextMapPropagator; sdkEnabled: boolean };
  /** The server records message sizes (grpc-compat's `recordMessageSizes`), so access lines carry bytes in and out. */
  messageBytes?: boolean;
  /** Only these steps, in the chain's order (benchmarks measure each alone). Default every step. */
  steps?: readonly StepName[];
  /** Where rate-limit buckets live (src/rate-limit/build-rate-limit-store.ts); default in this process's memory. */
  rateLimitStore?: RateLimitStore;
  /** Client certificates the web listener verified for its in-memory calls (src/web/internal-channel.ts); default none. */
  forwardedCertificates?: ForwardedCertificates;
}

/** The built chain: one interceptor, and what owns timers (started and stopped with the gateway). */
export interface GatewayChain {
  /** The one grpc-js interceptor of the main listener. */
  readonly interceptor: grpc.ServerInterceptor;
  /** The security steps' keys, verifier and policy. */
  readonly security: Security;
  /** Starts what the steps own (JWKS fetches); resolves once the first key sets are in. */
  start(): Promise<void>;
  /** Stops every timer the steps own. */
  stop(): void;
  /** Measures each request's raw HTTP/2 headers for the metadata limits step; the HTTP/2 hooks call it per stream. */
  readonly measureHeaders: ((stream: object, rawHeaders: readonly string[]) => void) | undefined;
}

/** Services that every client, authenticated or not, may call: probes and tooling. */
export const INFRASTRUCTURE_SERVICES = Object.freeze([
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
]);

/**
 * The one ordered list of steps of the main listener, outermost first, run by
 * one grpc-js interceptor (interceptors/gateway-call.ts) on one object per
 * call. Order matters: tracing first so every later step and log line has the
 * trace id; metrics and the access log see the final code, refusals included;
 * deadlines apply before any work; authorization and limits need the caller
 * that authentication names. Building it starts nothing.
 */
export function buildInterceptorChain(deps: ChainDependencies): GatewayChain {
  const { config, registry, logger } = deps;
  const appOnly = not(inServices(INFRASTRUCTURE_SERVICES)); // decided per method at start, not per call
  const peers = createPeerCache(undefined, deps.forwardedCertificates);
  const methods = methodsOf(deps.services.map((service) => service.definition));
  const security = buildSecurity({ config, registry, logger, services: deps.services, exemptServices: INFRASTRUCTURE_SERVICES, peers });
  // One status mapping for every step that writes or passes statuses (src/status/normalize-status.ts).
  const normalize = createStatusNormalizer(config.server);
  const metadataLimits = createMetadataLimitsStep({
    maxEntries: config.server.maxMetadataEntries,
    maxBytes: config.server.maxMetadataBytes,
    reject: rejectionToStatus,
  });
  const deadline = createDeadlineStep({ defaults: config.deadlines, methods: config.deadlines.methods, reject: rejectionToStatus });
  const all: Step[] = [
    // Call outcome: what grpc-js really wrote, its own statuses (its deadline, oversized or undecodable requests)
    // included, each through the one mapping (clear words, details, bounded); a stream the client reset is CANCELLED.
    createOutcomeStep({ normalize }),
    // Tracing: the incoming trace id (and, with an SDK, one SERVER span) before anything else, for logs and replies.
    createTracingStep(deps.telemetry?.sdkEnabled ? { tracer: deps.telemetry.tracer, propagator: deps.telemetry.propagator } : {}),
    // Metrics: go-grpc-middleware's series for every call, refusals below included; every method's series from start.
    createMetricsStep({ registry, methods }),
    // Access log: one line per call with the final code, queued at the end and written off the request path.
    ...(config.logging.accessLog
      ? [createAccessLogStep({ sink: logger, codeLevels: config.logging.accessLogLevels, peers, messageBytes: deps.messageBytes })]
      : []),
    // Status: every non-OK status leaving the steps below or the handler carries details; UNKNOWN becomes INTERNAL.
    createStatusStep({ normalize }),
    // Metadata limits: entries and bytes per call, RESOURCE_EXHAUSTED naming them (Node would reset the stream).
    metadataLimits,
    // Deadline: default, clamp and minimum budget per method before any work; one timer per budget, not per call.
    deadline,
    // Authentication: certificate identity and a verified bearer token (maybe async: unknown kid); probes exempt.
    onlyFor(appOnly, security.authentication),
    // Authorization: the per-method policy (config/policy.yaml) on that identity and token; unknown methods denied.
    onlyFor(appOnly, security.authorization),
    // Stream cap: concurrent calls per client connection, with a clear RESOURCE_EXHAUSTED; probes exempt.
    onlyFor(
      appOnly,
      createStreamCapStep({
        maxConcurrentStreamsPerConnection: config.rateLimits.maxConcurrentStreamsPerConnection,
        registry,
        reject: rejectionToStatus,
      }),
    ),
    // Rate limit: token bucket per caller and method (maybe async: a shared store), after the caller is known.
    onlyFor(
      appOnly,
      createRateLimitStep({
        defaults: config.rateLimits.default,
        methods: config.rateLimits.methods,
        maxBuckets: config.rateLimits.maxBuckets,
        registry,
        reject: rejectionToStatus,
        store: deps.rateLimitStore,
      }),
    ),
  ];
  const steps = deps.steps === undefined ? all : all.filter((step) => deps.steps!.includes(step.name));
  return {
    interceptor: createGatewayInterceptor({ steps, methods, messageBytes: deps.messageBytes }),
    security,
    start: () => security.start(),
    measureHeaders: steps.includes(metadataLimits) ? metadataLimits.measureHeaders : undefined,
    stop() {
      deadline.stop();
      security.stop();
    },
  };
}

/**
 * The interceptor of the plaintext health-only listener: only the call
 * outcome step with the one status mapping, so statuses grpc-js writes there
 * (an undecodable or oversized request, a malformed grpc-timeout, a second
 * request message) get Gatehouse's words and details as on the main listener.
 * Health needs no auth, limits or access log.
 */
export function buildHealthListenerChain(config: Config): grpc.ServerInterceptor {
  return createGatewayInterceptor({ steps: [createOutcomeStep({ normalize: createStatusNormalizer(config.server) })] });
}
