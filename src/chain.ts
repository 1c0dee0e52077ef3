import type * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
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
  void deps;
  return [];
}
