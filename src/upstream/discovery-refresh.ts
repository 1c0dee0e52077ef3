import type { Config } from '../config/schema.js';
import type { RouteConfig } from '../config/upstream-schema.js';
import type { Logger } from '../logging/logger.js';
import { summarizeFile, type DescribedService } from './described-services.js';
import { askReflection, describeFailure, usesReflection, type DiscoveredRoutes } from './discover-routes.js';
import { routeCovers } from './route-match.js';

/** A running refresh; stop it with the gateway. */
export interface DiscoveryRefresh {
  stop(): void;
}

/**
 * Asks each upstream whose routes came from reflection again every
 * `discovery.refreshIntervalMs` and logs (once per change) when the methods
 * it describes differ from those routed since start. The routed methods
 * themselves stay as they were: the policy, metrics and rate limits were
 * prepared for them at start, so new methods are routed after a restart,
 * and a method the upstream dropped answers UNIMPLEMENTED from the upstream.
 */
export function startDiscoveryRefresh(config: Config, routes: DiscoveredRoutes, logger: Logger): DiscoveryRefresh {
  const timers: NodeJS.Timeout[] = [];
  const byUpstream = new Map<string, RouteConfig[]>();
  for (const route of config.routes) {
    if (usesReflection(route)) byUpstream.set(route.upstream, [...(byUpstream.get(route.upstream) ?? []), route]);
  }
  for (const [name, upstreamRoutes] of byUpstream) {
    const intervalMs = config.upstreams[name]!.discovery.refreshIntervalMs;
    if (intervalMs === 0) continue;
    const routed = signatures(routes.services.filter((s) => upstreamRoutes.includes(s.route)).map((s) => s.service));
    let lastReported = routed;
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      askReflection(config, name, upstreamRoutes, Math.min(5000, intervalMs))
        .then(
          (api) => {
            const now = signatures(
              api.files.flatMap((bytes) => summarizeFile(bytes).services).filter((s) => upstreamRoutes.some((r) => routeCovers(r.service, s.name))),
            );
            if (now === lastReported) return;
            lastReported = now;
            if (now === routed) logger.info('upstream describes the routed methods again', { upstream: name });
            else logger.warn('upstream API changed since start; restart the gateway to route it as it is now', { upstream: name, routed, now });
          },
          (error: unknown) => {
            logger.debug('upstream reflection refresh failed', { upstream: name, error: describeFailure(error) });
          },
        )
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    timers.push(timer);
  }
  return {
    stop() {
      for (const timer of timers) clearInterval(timer);
    },
  };
}

/** A comparable text of services and their methods with their streaming kinds. */
function signatures(services: readonly DescribedService[]): string {
  return services
    .map(
      (s) =>
        `${s.name}(${s.methods
          .map((m) => `${m.name}${m.clientStreaming ? '<' : ''}${m.serverStreaming ? '>' : ''}`)
          .sort()
          .join(',')})`,
    )
    .sort()
    .join(' ');
}
