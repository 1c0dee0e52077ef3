import * as grpc from '@grpc/grpc-js';
import type { UpstreamConfig } from '../config/upstream-schema.js';
import type { Logger } from '../logging/logger.js';
import { watchEndpointHealth, type HealthWatch } from './health-watch.js';
import type { UpstreamChannelSettings } from './upstream-credentials.js';
import type { UpstreamMetrics } from './upstream-metrics.js';

/** One endpoint of an upstream: its channel and what the gateway knows of its health. */
export interface Endpoint {
  /** The channel to this endpoint (one per target). */
  readonly client: grpc.Client;
  /** Its channel, for the connectivity state. */
  readonly channel: grpc.ChannelInterface;
  /** `legacy-cheese#1` (its place in `targets`), for logs; clients never see the address. */
  readonly label: string;
  /** The last health verdict; undefined before the first. */
  healthy: boolean | undefined;
  /** performance.now() until which it is ejected; 0 when it is not. */
  ejectedUntilMs: number;
  /** Failed attempts in a row. */
  consecutiveFailures: number;
}

/** Options for {@link createUpstreamCluster}. */
export interface UpstreamClusterOptions {
  name: string;
  config: UpstreamConfig;
  channel: UpstreamChannelSettings;
  metrics: UpstreamMetrics;
  logger: Logger;
}

/** An upstream's endpoints, balanced round robin over those healthy and not ejected. */
export interface UpstreamCluster {
  readonly name: string;
  /** The next endpoint in rotation that is healthy and not ejected; undefined when there is none. */
  pick(): Endpoint | undefined;
  /** An attempt on `endpoint` ended; `failed` when it was UNAVAILABLE (connection or upstream). */
  report(endpoint: Endpoint, failed: boolean): void;
  /** Whether any endpoint can take calls now: the health the gateway reports for routed services. */
  serving(): boolean;
  /** Called on every change of {@link serving}. */
  onServingChange(listener: (serving: boolean) => void): void;
  /** Why nothing can be picked, without addresses: `2 endpoints: 1 failing health checks, 1 ejected`. */
  whyUnavailable(): string;
  /** Starts health checks; resolves once every endpoint had a first verdict, or after the check timeout. */
  start(): Promise<void>;
  /** Stops health checks and closes the channels. */
  stop(): void;
}

/**
 * The endpoints of one upstream. Health comes from active grpc.health.v1
 * checks (health-watch.ts); an endpoint whose calls fail
 * `ejection.consecutiveFailures` times in a row is ejected for
 * `ejection.durationMs` even while its health check still passes (a server
 * that answers health but fails calls). With health checks off, every
 * endpoint is healthy until ejected.
 */
export function createUpstreamCluster(options: UpstreamClusterOptions): UpstreamCluster {
  const { name, config, metrics, logger } = options;
  // Channels are made by start(): building the gateway opens nothing and starts no timer.
  const endpoints: Endpoint[] = [];
  const listeners: ((serving: boolean) => void)[] = [];
  const watches: HealthWatch[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const healthyGauge = metrics.healthyEndpoints.labels(name);
  const ejectionsCounter = metrics.ejections.labels(name);
  let next = 0;
  let lastServing = false;

  const usable = (endpoint: Endpoint, now: number) => endpoint.healthy === true && endpoint.ejectedUntilMs <= now;
  const refresh = () => {
    const now = performance.now();
    let count = 0;
    for (const endpoint of endpoints) if (usable(endpoint, now)) count++;
    healthyGauge.set(count);
    const serving = count > 0;
    if (serving !== lastServing) {
      lastServing = serving;
      logger.info(serving ? 'upstream serving' : 'upstream has no healthy endpoint', { upstream: name });
      for (const listener of listeners) listener(serving);
    }
  };

  return {
    name,
    pick() {
      const now = performance.now();
      for (let i = 0; i < endpoints.length; i++) {
        const endpoint = endpoints[(next + i) % endpoints.length]!;
        // A channel that just lost its connection is skipped even before its health check has said so.
        if (usable(endpoint, now) && endpoint.channel.getConnectivityState(false) !== grpc.connectivityState.TRANSIENT_FAILURE) {
          next = (next + i + 1) % endpoints.length;
          return endpoint;
        }
      }
      return undefined;
    },
    report(endpoint, failed) {
      if (!failed) {
        endpoint.consecutiveFailures = 0;
        return;
      }
      if (++endpoint.consecutiveFailures < config.ejection.consecutiveFailures || endpoint.ejectedUntilMs > performance.now()) return;
      endpoint.ejectedUntilMs = performance.now() + config.ejection.durationMs;
      endpoint.consecutiveFailures = 0;
      ejectionsCounter.inc();
      logger.warn('upstream endpoint ejected after consecutive failures', {
        upstream: name,
        endpoint: endpoint.label,
        forMs: config.ejection.durationMs,
      });
      const timer = setTimeout(() => {
        timers.delete(timer);
        refresh();
      }, config.ejection.durationMs + 1);
      timer.unref();
      timers.add(timer);
      refresh();
    },
    serving: () => lastServing,
    onServingChange(listener) {
      listeners.push(listener);
    },
    whyUnavailable() {
      const now = performance.now();
      const ejected = endpoints.filter((e) => e.ejectedUntilMs > now).length;
      const unhealthy = endpoints.filter((e) => e.ejectedUntilMs <= now && e.healthy === false).length;
      const unknown = endpoints.filter((e) => e.ejectedUntilMs <= now && e.healthy === undefined).length;
      const parts = [
        ...(unhealthy > 0 ? [`${unhealthy} failing health checks`] : []),
        ...(ejected > 0 ? [`${ejected} ejected after failed calls`] : []),
        ...(unknown > 0 ? [`${unknown} not checked yet`] : []),
      ];
      const count = config.targets.length;
      return `${count} endpoint${count === 1 ? '' : 's'}: ${parts.join(', ') || 'not started'}`;
    },
    start() {
      endpoints.push(
        ...config.targets.map((target, i) => {
          const client = new grpc.Client(target, options.channel.credentials, options.channel.options);
          return {
            client,
            channel: client.getChannel(),
            label: `${name}#${i + 1}`,
            healthy: config.healthCheck.enabled ? undefined : true,
            ejectedUntilMs: 0,
            consecutiveFailures: 0,
          };
        }),
      );
      refresh();
      if (!config.healthCheck.enabled) return Promise.resolve();
      const firstVerdicts = endpoints.map(
        (endpoint) =>
          new Promise<void>((resolve) => {
            watches.push(
              watchEndpointHealth(endpoint.client, config.healthCheck, (healthy, why) => {
                resolve();
                if (endpoint.healthy === healthy) return;
                endpoint.healthy = healthy;
                logger.info('upstream endpoint health', { upstream: name, endpoint: endpoint.label, healthy, why });
                refresh();
              }),
            );
          }),
      );
      // A first verdict can take a connection attempt; do not hold the start longer than one check.
      return Promise.race([
        Promise.all(firstVerdicts),
        new Promise<void>((resolve) => setTimeout(resolve, config.healthCheck.timeoutMs).unref()),
      ]).then(() => undefined);
    },
    stop() {
      for (const watch of watches.splice(0)) watch.stop();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const endpoint of endpoints.splice(0)) endpoint.client.close();
    },
  };
}
