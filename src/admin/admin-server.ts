import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { HealthState } from '../health/health-state.js';

/** Options for {@link startAdminServer}. */
export interface AdminServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Readiness source: one gateway's health, or the primary's view of all workers. */
  health: Pick<HealthState, 'isReady' | 'isDraining' | 'snapshot'>;
  /** Served at /metrics in the Prometheus text format. */
  registry: Registry;
  /** Replaces the local registry's text at /metrics (the multi-worker primary sums its workers here). */
  metricsText?: () => Promise<string>;
}

/** A running admin listener. */
export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The admin HTTP listener: `/healthz` is liveness (the process answers),
 * `/readyz` is readiness (every required service SERVING and not draining),
 * `/metrics` is the Prometheus scrape.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = options.health.isReady();
      response
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ready, draining: options.health.isDraining(), services: options.health.snapshot() }) + '\n');
    } else if (path === '/metrics') {
      (options.metricsText ?? (() => options.registry.metrics()))().then(
        (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
      );
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
