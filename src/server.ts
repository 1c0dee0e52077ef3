import * as grpc from '@grpc/grpc-js';
import { service as healthServiceDefinition } from 'grpc-health-check';
import type { Registry } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAdminServer } from './admin/admin-server.js';
import { buildHealthListenerChain, buildInterceptorChain, INFRASTRUCTURE_SERVICES } from './chain.js';
import { createStatusNormalizer } from './status/normalize-status.js';
import { configureHttp2Servers, recordMessageSizes, wordUnknownMethodStatus, type Http2ServerOptionsPatch } from '../interceptors/grpc-compat.js';
import type { StepName } from '../interceptors/gateway-call.js';
import { inServices } from '../interceptors/select.js';
import { registerHealthMetrics } from './metrics/health-metrics.js';
import { createMetricsRegistry } from './metrics/metrics-registry.js';
import type { Telemetry } from './telemetry/telemetry.js';
import type { Config } from './config/schema.js';
import { createHealthState, type HealthState } from './health/health-state.js';
import type { Logger } from './logging/logger.js';
import { createReflectionServices, descriptorIndexWith, REFLECTION_SERVICE_NAMES } from './reflection/reflection-service.js';
import { buildServices } from './services/build-services.js';
import type { HostedService } from './services/hosted-service.js';
import { createServerCredentials } from './tls/server-credentials.js';
import { installHttp2Hooks } from './auth/http2-hooks.js';
import { routeGrpcJsLogs } from './logging/grpc-js-logger.js';
import { refuseMisreadableRequests } from './proto/strict-decoding.js';
import { buildRateLimitStore } from './rate-limit/build-rate-limit-store.js';
import { guardConnections } from './transport/connection-guard.js';
import { buildRoutedServices } from './upstream/build-routed-services.js';
import { NO_ROUTES, type DiscoveredRoutes } from './upstream/discover-routes.js';
import { createWebFront } from './web/web-front.js';

/** Options for {@link createGateway}. */
export interface GatewayOptions {
  config: Config;
  logger: Logger;
  /** Metrics registry; default a new one with process and Node series. Never the prom-client global. */
  registry?: Registry;
  /** Tracing from src/telemetry/ (flushed by shutdown); default: no SDK, incoming trace ids still reach the logs. */
  telemetry?: Telemetry;
  /** Services to host instead of those config enables (tests add slow or failing ones). */
  services?: HostedService[];
  /** Services to host in addition to those config enables. */
  extraServices?: HostedService[];
  /** Only these steps of the interceptor chain (the external benchmark measures each alone). Default every step config enables. */
  chainSteps?: readonly StepName[];
  /** Services routed to upstreams, found by `discoverRoutes` (src/upstream/) before the gateway is built; required when config has routes. */
  routes?: DiscoveredRoutes;
}

/** Where a started gateway listens; ports are the real ones when config asked for 0. */
export interface GatewayAddresses {
  grpcPort: number;
  healthPort?: number;
  adminPort?: number;
  /** The web listener (HTTP/JSON, gRPC-Web, console), when `http.enabled`. */
  httpPort?: number;
}

/** One gateway process: three listeners, its services, one health state. */
export interface Gateway {
  readonly health: HealthState;
  readonly registry: Registry;
  readonly services: readonly HostedService[];
  /** Binds the listeners, then warms services up in the background; health follows each warm-up. */
  listen(): Promise<GatewayAddresses>;
  /** Resolves when every service's warm-up has settled (succeeded or failed). */
  warmedUp(): Promise<void>;
  /**
   * The drain sequence: NOT_SERVING, refuse new connections and calls, let
   * in-flight calls finish within the grace, cancel the rest; then stop every
   * component `listen()` started, in reverse order.
   */
  shutdown(): Promise<void>;
}

/** Something `listen()` started and `shutdown()` stops, in reverse order. */
interface StartedComponent {
  name: string;
  stop(): void | Promise<void>;
}

/**
 * Builds the gateway from config. It listens nowhere, fetches nothing and
 * starts no timer until `listen()`.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { config, logger } = options;
  const registry = options.registry ?? createMetricsRegistry();
  const hosted = [...(options.services ?? buildServices(config, { registry, logger })), ...(options.extraServices ?? [])];
  if (config.routes.length > 0 && options.routes === undefined)
    throw new Error('config has routes: call discoverRoutes (src/upstream/) before createGateway');
  // Routed services pass the same chain as hosted ones; their health follows their upstream, but an upstream that is
  // down does not make the gateway itself unready (its own services still serve).
  const routes = options.routes ?? NO_ROUTES;
  const services = [...hosted, ...buildRoutedServices(config, routes, { registry, logger })];
  const health = createHealthState(
    services.map((s) => s.name),
    hosted.map((s) => s.name),
  );
  const healthService = { name: 'grpc.health.v1.Health', definition: healthServiceDefinition as grpc.ServiceDefinition };

  registerHealthMetrics(registry, health);
  // Both listeners accept the same message sizes: a probe or tool gets the same limits and the same words everywhere.
  // Channelz stays on although nothing serves it: with 'grpc.enable_channelz': 0, grpc-js 1.14 no longer tracks the
  // sessions forceShutdown destroys, so streams cut at the end of the drain grace read UNAVAILABLE instead of CANCELLED.
  const sharedServerOptions = {
    'grpc.max_receive_message_length': config.server.maxReceiveMessageBytes,
    'grpc.max_send_message_length': config.server.maxSendMessageBytes,
  };
  // grpc-js logs client-supplied metadata values itself; its lines go through the redacting logger.
  routeGrpcJsLogs(logger, config.logging.level);
  // Redis when rateLimits.redisUrl is set (shared by every worker and pod), else per-process memory.
  const rateLimitStore = buildRateLimitStore(config.rateLimits, { registry, logger });
  // HTTP/JSON, gRPC-Web and the console (src/web/): its calls enter the main server over in-memory connections.
  const web = createWebFront({
    config,
    logger,
    registry,
    server: () => main,
    hostedPaths: new Set(services.flatMap((s) => Object.values(s.definition).map((m) => m.path))),
  });
  const chain = buildInterceptorChain({
    config,
    registry,
    logger,
    services: [...services, healthService],
    telemetry: options.telemetry,
    messageBytes: true,
    steps: options.chainSteps,
    rateLimitStore,
    forwardedCertificates: web?.forwardedCertificates,
  });
  const main = new grpc.Server({
    interceptors: [chain.interceptor],
    ...sharedServerOptions,
    ...(config.server.maxConnectionAgeMs > 0
      ? {
          'grpc.max_connection_age_ms': config.server.maxConnectionAgeMs,
          'grpc.max_connection_age_grace_ms': config.server.maxConnectionAgeGraceMs,
        }
      : {}),
  });
  recordMessageSizes(main); // before any addService: sizes for the access log's bytes in/out
  // Repeated authorization headers, grpc-timeout overflow, one certificate object per connection, and the drain
  // refusing newcomers: src/auth/http2-hooks.ts. Probes still read NOT_SERVING on this listener while it drains.
  const http2 = installHttp2Hooks(main, {
    servedWhileDraining: inServices(INFRASTRUCTURE_SERVICES.slice(0, 1)),
    measureHeaders: chain.measureHeaders,
    trustedHeader: web?.trustedHeader,
  });
  if (!http2) logger.warn('grpc-js internals changed: duplicate authorization headers and drain newcomers cannot be refused');
  // Slow or silent connections and per-address floods are closed, and Node's header limits sit above the
  // metadata limits so a flood gets a status from the chain instead of an HTTP/2 reset: src/transport/.
  const http2Options = http2OptionsFor(config.server);
  const guard = (http2Server: Parameters<typeof guardConnections>[0]) => guardConnections(http2Server, { ...config.server, registry });
  if (!configureHttp2Servers(main, http2Options, guard))
    logger.warn('grpc-js internals changed: connection limits and metadata limits are not applied');
  // The kubelet's gRPC probe speaks plaintext without a client certificate: it gets a listener with health only.
  const healthOnly = new grpc.Server({ interceptors: [buildHealthListenerChain(config)], ...sharedServerOptions });
  // A plain grpc-js server overflows on deadlines past 2^31 ms as well; it drains with the health state instead.
  installHttp2Hooks(healthOnly, { servedWhileDraining: () => true });
  configureHttp2Servers(healthOnly, http2Options, guard);
  // Before any addService, which it wraps: request bytes protobufjs would read differently from other decoders
  // (overlong varints, ...) are refused.
  refuseMisreadableRequests([main, healthOnly], INFRASTRUCTURE_PROTO_FILES);
  for (const service of services) main.addService(service.definition, service.implementation);
  health.implementation.addToServer(main);
  // Reflection serves protoc's own descriptors (src/reflection/), so grpcurl, Go and Python clients can list and call
  // everything hosted here and decode every error detail.
  const reflection = createReflectionServices({
    index: routes.files.length > 0 ? descriptorIndexWith(routes.files) : undefined,
    services: [...services.map((s) => s.name), healthService.name, ...REFLECTION_SERVICE_NAMES],
    allowedIdentities: config.auth.allowedIdentities,
  });
  for (const service of reflection) main.addService(service.definition, service.implementation);
  health.implementation.addToServer(healthOnly);
  // An unknown method is answered before any interceptor runs: give that status our words and details too.
  const normalize = createStatusNormalizer(config.server);
  for (const server of [main, healthOnly]) {
    if (!wordUnknownMethodStatus(server, normalize)) logger.warn("grpc-js internals changed: unknown methods get grpc-js's own UNIMPLEMENTED status");
  }

  let warmUp: Promise<void> = Promise.resolve();
  const started: StartedComponent[] = [];

  return {
    health,
    registry,
    services,
    async listen() {
      // Key sets first (JWKS fetches, refresh timers): services turn SERVING only once their keys are in.
      const keysReady = chain.start();
      started.push({ name: 'interceptor chain', stop: () => chain.stop() });
      started.push({
        name: 'rate-limit store',
        stop: async () => {
          await rateLimitStore?.close?.();
        },
      });
      // Certificate, key and CA follow their files; a broken replacement is refused and the last good one serves.
      const credentials = createServerCredentials(config.server.tls, { registry, logger });
      started.push({ name: 'listener credentials', stop: () => credentials.close() });
      const grpcPort = await bind(main, config.server.host, config.server.port, credentials.credentials);
      const addresses: GatewayAddresses = { grpcPort };
      if (web !== undefined) {
        addresses.httpPort = await web.listen(credentials.credentials);
        started.push({ name: 'web listener', stop: () => web.close() });
      }
      if (config.health.enabled) {
        addresses.healthPort = await bind(healthOnly, config.health.host, config.health.port, grpc.ServerCredentials.createInsecure());
        started.push({ name: 'health listener', stop: () => healthOnly.forceShutdown() });
      }
      if (config.admin.enabled) {
        const adminServer = await startAdminServer({ host: config.admin.host, port: config.admin.port, health, registry });
        started.push({ name: 'admin server', stop: () => adminServer.close() });
        addresses.adminPort = adminServer.port;
      }
      warmUp = Promise.all(
        services.map(async (service) => {
          const startedAt = performance.now();
          try {
            await service.start();
            await keysReady;
            // A service may lose and regain its backend later (the order store): health follows it.
            const serving = service.watchServing?.((now) => health.set(service.name, now ? 'SERVING' : 'NOT_SERVING')) ?? true;
            health.set(service.name, serving ? 'SERVING' : 'NOT_SERVING');
            logger.info('service ready', { service: service.name, warmUpMs: Math.round(performance.now() - startedAt) });
          } catch (error) {
            health.set(service.name, 'NOT_SERVING');
            logger.error('service failed to start; it stays NOT_SERVING', { service: service.name, error: errorMessage(error) });
          }
        }),
      ).then(() => undefined);
      started.push({
        name: 'services',
        stop: async () => {
          await warmUp;
          await Promise.allSettled(services.map((service) => service.stop()));
        },
      });
      return addresses;
    },
    warmedUp: () => warmUp,
    async shutdown() {
      const graceMs = config.server.shutdownGraceMs;
      // In this order: probes read NOT_SERVING, and from the same moment new connections and streams are refused.
      health.beginDrain();
      http2?.beginDrain();
      web?.beginDrain();
      logger.info('draining: health is NOT_SERVING, new connections and calls are refused', { graceMs });
      const drained = new Promise<boolean>((resolve) => main.tryShutdown(() => resolve(true)));
      // tryShutdown has no timeout and a long stream could hold it forever (DESIGN.md).
      const finished = await Promise.race([drained, sleep(graceMs, false, { ref: false })]);
      if (!finished) {
        logger.warn('grace period over: cancelling the calls still running', { graceMs });
        main.forceShutdown();
      }
      // Everything listen() started, newest first: services, admin, health listener, credentials, the chain's timers.
      for (const component of started.splice(0).reverse()) {
        try {
          await component.stop();
        } catch (error) {
          logger.warn('a component did not stop cleanly', { component: component.name, error: errorMessage(error) });
        }
      }
      await options.telemetry?.shutdown();
      logger.info('stopped');
    },
  };
}

function bind(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, boundPort) =>
      error ? reject(new Error(`cannot listen on ${address}: ${error.message}`)) : resolve(boundPort),
    );
  });
}

/**
 * Node's own header limits, kept well above the metadata limits the chain enforces, so that a metadata flood
 * reaches the chain and gets RESOURCE_EXHAUSTED with a message; only far larger ones (which would cost memory
 * just to read) are still reset by HTTP/2 itself. Node's defaults (128 pairs) sit below a 200-entry flood.
 */
function http2OptionsFor(server: Config['server']): Http2ServerOptionsPatch {
  return {
    maxHeaderListPairs: Math.max(1024, server.maxMetadataEntries * 8),
    maxHeaderListSize: Math.max(64 * 1024, server.maxMetadataBytes * 4),
  };
}

/** Protos of the infrastructure services, in proto/: their requests get the same strict decoding as ours. */
const INFRASTRUCTURE_PROTO_FILES = ['grpc/health/v1/health.proto', 'grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'];

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
