import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { UpstreamConfig } from '../config/upstream-schema.js';
import type { Logger } from '../logging/logger.js';
import { watchEndpointHealth, type HealthWatch } from './health-watch.js';
import { createUpstreamConnection, type UpstreamAddress, type UpstreamConnection, type UpstreamTls } from './upstream-connection.js';
import type { UpstreamMetrics } from './upstream-metrics.js';

/** One endpoint of an upstream (one address): its connection and what the gateway knows of its health. */
export interface Endpoint {
  /** The HTTP/2 connection routed calls and health checks share. */
  readonly connection: UpstreamConnection;
  /** `legacy-cheese#1` (its place in `targets`; `#1.2` for a dns:/// target's second address), for logs; clients never see the address. */
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
  /** TLS of the connections; undefined for plaintext. */
  tls: UpstreamTls | undefined;
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
  /** Resolves targets and starts health checks; resolves once every endpoint had a first verdict, or after the check timeout. */
  start(): Promise<void>;
  /** Stops health checks and re-resolution and closes the connections. */
  stop(): void;
}

/** How often a `dns:///` target's name is resolved again (addresses that appear get endpoints, those gone are closed). */
const RERESOLVE_MS = 30_000;

/**
 * The endpoints of one upstream: one per `host:port` target, one per address
 * of a `dns:///name:port` target (resolved at start and every 30 s). Health
 * comes from active grpc.health.v1 checks (health-watch.ts) on the same
 * connection the calls use; an endpoint whose calls fail
 * `ejection.consecutiveFailures` times in a row is ejected for
 * `ejection.durationMs` even while its health check still passes (a server
 * that answers health but fails calls). With health checks off, every
 * endpoint is healthy until ejected.
 */
export function createUpstreamCluster(options: UpstreamClusterOptions): UpstreamCluster {
  const { name, config, metrics, logger } = options;
  // Connections are made by start(): building the gateway opens nothing and starts no timer.
  let endpoints: Endpoint[] = [];
  const listeners: ((serving: boolean) => void)[] = [];
  const watches = new Map<Endpoint, HealthWatch>();
  const timers = new Set<NodeJS.Timeout>();
  const healthyGauge = metrics.healthyEndpoints.labels(name);
  const ejectionsCounter = metrics.ejections.labels(name);
  let next = 0;
  let lastServing = false;
  let stopped = false;

  const usable = (endpoint: Endpoint, now: number) => endpoint.healthy === true && endpoint.ejectedUntilMs <= now && endpoint.connection.usable;
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
  const later = (run: () => void, ms: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  /** Opens an endpoint's connection and starts its health checks; resolves at its first verdict. */
  const open = (address: UpstreamAddress, label: string, tls = options.tls): { endpoint: Endpoint; firstVerdict: Promise<void> } => {
    const endpoint: Endpoint = {
      connection: createUpstreamConnection({
        address,
        tls,
        connectTimeoutMs: config.connectTimeoutMs,
        initialBackoffMs: 200,
        maxBackoffMs: Math.max(1000, config.healthCheck.intervalMs),
        keepaliveIntervalMs: config.keepalive.intervalMs,
        keepaliveTimeoutMs: config.keepalive.timeoutMs,
      }),
      label,
      healthy: config.healthCheck.enabled ? undefined : true,
      ejectedUntilMs: 0,
      consecutiveFailures: 0,
    };
    if (!config.healthCheck.enabled) return { endpoint, firstVerdict: Promise.resolve() };
    const firstVerdict = new Promise<void>((resolve) => {
      watches.set(
        endpoint,
        watchEndpointHealth(endpoint.connection, config.healthCheck, (healthy, why) => {
          resolve();
          if (endpoint.healthy === healthy) return;
          endpoint.healthy = healthy;
          logger.info('upstream endpoint health', { upstream: name, endpoint: endpoint.label, healthy, why });
          refresh();
        }),
      );
    });
    return { endpoint, firstVerdict };
  };
  const close = (endpoint: Endpoint) => {
    watches.get(endpoint)?.stop();
    watches.delete(endpoint);
    endpoint.connection.close();
  };

  /** A dns:/// target: its addresses now, and again every RERESOLVE_MS; a failed lookup keeps the last ones. */
  const followDns = async (target: DnsTarget, index: number): Promise<Promise<void>[]> => {
    const byAddress = new Map<string, Endpoint>();
    let serial = 0;
    // The connections go to addresses; the certificate must still name the target's host.
    const tls = options.tls === undefined || options.tls.servername !== undefined ? options.tls : { ...options.tls, servername: target.host };
    const resolve = async (): Promise<Promise<void>[]> => {
      let addresses: string[];
      try {
        addresses = [...new Set((await lookup(target.host, { all: true })).map((entry) => entry.address))];
      } catch (error) {
        logger.warn('upstream name did not resolve', { upstream: name, target: index + 1, error: (error as Error).message });
        return [];
      }
      if (stopped) return [];
      const verdicts: Promise<void>[] = [];
      for (const address of addresses) {
        if (byAddress.has(address)) continue;
        const made = open({ host: address, port: target.port, authority: target.authority }, `${name}#${index + 1}.${++serial}`, tls);
        byAddress.set(address, made.endpoint);
        endpoints.push(made.endpoint);
        verdicts.push(made.firstVerdict);
      }
      for (const [address, endpoint] of byAddress) {
        if (addresses.includes(address)) continue;
        byAddress.delete(address);
        endpoints = endpoints.filter((e) => e !== endpoint);
        close(endpoint);
      }
      refresh();
      return verdicts;
    };
    const again = () => {
      if (stopped) return;
      void resolve().then(() => later(again, RERESOLVE_MS));
    };
    const verdicts = await resolve();
    later(again, RERESOLVE_MS);
    return verdicts;
  };

  return {
    name,
    pick() {
      const now = performance.now();
      const count = endpoints.length;
      for (let i = 0; i < count; i++) {
        const endpoint = endpoints[(next + i) % count]!;
        if (usable(endpoint, now)) {
          next = (next + i + 1) % count;
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
      // A connection that just failed is skipped by pick() at once; the gauge and serving state follow here.
      if (!endpoint.connection.usable) refresh();
      if (++endpoint.consecutiveFailures < config.ejection.consecutiveFailures || endpoint.ejectedUntilMs > performance.now()) return;
      endpoint.ejectedUntilMs = performance.now() + config.ejection.durationMs;
      endpoint.consecutiveFailures = 0;
      ejectionsCounter.inc();
      logger.warn('upstream endpoint ejected after consecutive failures', {
        upstream: name,
        endpoint: endpoint.label,
        forMs: config.ejection.durationMs,
      });
      later(refresh, config.ejection.durationMs + 1);
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
      const unreachable = endpoints.filter((e) => e.ejectedUntilMs <= now && e.healthy === true && !e.connection.usable).length;
      const parts = [
        ...(unhealthy > 0 ? [`${unhealthy} failing health checks`] : []),
        ...(ejected > 0 ? [`${ejected} ejected after failed calls`] : []),
        ...(unreachable > 0 ? [`${unreachable} not connected`] : []),
        ...(unknown > 0 ? [`${unknown} not checked yet`] : []),
      ];
      const count = endpoints.length;
      return `${count} endpoint${count === 1 ? '' : 's'}: ${parts.join(', ') || (count === 0 ? 'none resolved' : 'not started')}`;
    },
    async start() {
      const verdicts: Promise<void>[] = [];
      for (const [i, text] of config.targets.entries()) {
        const target = parseTarget(text, options.tls?.servername);
        if (target.dns) {
          verdicts.push(...(await followDns(target, i)));
        } else {
          const made = open(target, `${name}#${i + 1}`);
          endpoints.push(made.endpoint);
          verdicts.push(made.firstVerdict);
        }
      }
      refresh();
      // A first verdict can take a connection attempt; do not hold the start longer than one check.
      await Promise.race([Promise.all(verdicts), new Promise<void>((resolve) => later(resolve, config.healthCheck.timeoutMs))]);
    },
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const endpoint of endpoints) close(endpoint);
      endpoints = [];
    },
  };
}

interface DnsTarget extends UpstreamAddress {
  readonly dns: true;
}

/**
 * A configured target (`host:port`, `[v6]:port`, `dns:///name:port`) as the address to connect to; `:authority`
 * is the TLS server name when one is configured (as grpc-js's default_authority did), else the target itself.
 */
function parseTarget(target: string, serverName: string | undefined): (UpstreamAddress & { readonly dns: false }) | DnsTarget {
  const dns = target.startsWith('dns:///');
  const hostPort = dns ? target.slice('dns:///'.length) : target;
  const colon = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(hostPort.slice(colon + 1));
  const authority = serverName ?? hostPort;
  // An IP literal in a dns:/// target needs no lookup.
  return dns && isIP(host) === 0 ? { host, port, authority, dns: true } : { host, port, authority, dns: false };
}
