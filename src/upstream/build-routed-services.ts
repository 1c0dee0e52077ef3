import type { Registry } from 'prom-client';
import { GO_CODE_NAMES } from '../../interceptors/method-names.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { HostedService } from '../services/hosted-service.js';
import type { DiscoveredRoutes } from './discover-routes.js';
import { startDiscoveryRefresh, type DiscoveryRefresh } from './discovery-refresh.js';
import type { ForwardCounters, ForwardTarget } from './forward-call.js';
import { createRetryBudget, type RetryBudget } from './retry-budget.js';
import { createRoutedService } from './routed-service.js';
import { createUpstreamCluster, type UpstreamCluster } from './upstream-cluster.js';
import { upstreamTls } from './upstream-credentials.js';
import { upstreamMetrics } from './upstream-metrics.js';

/** What routed services are built with. */
export interface RoutedServiceDependencies {
  registry: Registry;
  logger: Logger;
}

/**
 * The routed services discovery found, ready for the main listener: one
 * upstream cluster (connections, health checks) per upstream they use, one
 * retry budget per route, per-upstream series. Nothing connects until the
 * services start.
 */
export function buildRoutedServices(config: Config, routes: DiscoveredRoutes, deps: RoutedServiceDependencies): HostedService[] {
  const metrics = upstreamMetrics(deps.registry);
  const clusters = new Map<string, UpstreamCluster>();
  const counters = new Map<string, ForwardCounters>();
  const budgets = new Map<object, RetryBudget>();
  const clusterFor = (name: string) => {
    let cluster = clusters.get(name);
    if (cluster === undefined) {
      const upstream = config.upstreams[name]!;
      cluster = createUpstreamCluster({ name, config: upstream, tls: upstreamTls(upstream), metrics, logger: deps.logger });
      clusters.set(name, cluster);
      counters.set(name, {
        calls: GO_CODE_NAMES.map((code) => metrics.calls.labels(name, code)),
        failures: metrics.failures.labels(name),
        retries: metrics.retries.labels(name),
        retriesRefused: metrics.retriesRefused.labels(name),
        latency: metrics.latency.labels(name),
      });
    }
    return cluster;
  };
  const services: HostedService[] = [];
  // Reflection is asked again while any routed service runs: the refresh starts with the first and stops with the last.
  let refresh: DiscoveryRefresh | undefined;
  let running = 0;
  // Several routed services may share an upstream: the cluster starts and stops once, with the first and last of them.
  const started = new Map<UpstreamCluster, { starting?: Promise<void>; users: number }>();
  for (const { service, route } of routes.services) {
    const upstream = clusterFor(route.upstream);
    const budget = budgets.get(route) ?? createRetryBudget({ ratio: route.retry.budgetRatio });
    budgets.set(route, budget);
    const idempotent = new Set(route.retry.idempotentMethods);
    const built = createRoutedService({
      service,
      upstream,
      targetFor: (method, path): ForwardTarget => ({
        path,
        requestStream: method.clientStreaming,
        responseStream: method.serverStreaming,
        upstream,
        counters: counters.get(route.upstream)!,
        // Replies pass on to the gateway's own client: they may be as large as its listener sends.
        maxReplyBytes: config.server.maxSendMessageBytes,
        retry: {
          maxAttempts: idempotent.has('*') || idempotent.has(method.name) ? route.retry.maxAttempts : 1,
          maxReplayBytes: route.retry.maxReplayBytes,
          initialBackoffMs: route.retry.initialBackoffMs,
          maxBackoffMs: route.retry.maxBackoffMs,
          budget,
        },
      }),
    });
    const usage = started.get(upstream) ?? { users: 0 };
    started.set(upstream, usage);
    services.push({
      ...built,
      start() {
        if (running++ === 0) refresh = startDiscoveryRefresh(config, routes, deps.logger);
        usage.users++;
        usage.starting ??= built.start();
        return usage.starting;
      },
      async stop() {
        if (--running === 0) refresh?.stop();
        if (--usage.users <= 0) await built.stop();
      },
    });
  }
  return services;
}
