import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The per-upstream series, one set per registry, children prepared per upstream at start. */
export interface UpstreamMetrics {
  /** Attempts sent to the upstream (a retried call counts each attempt), by final code, spelled as grpc_server_handled_total spells it (Go's names). */
  readonly calls: Counter<'upstream' | 'grpc_code'>;
  /** Attempts that failed for the endpoint's sake: UNAVAILABLE, whether grpc-js saw the connection fail or the upstream said it. */
  readonly failures: Counter<'upstream'>;
  /** Endpoints taken out of rotation after consecutive failures. */
  readonly ejections: Counter<'upstream'>;
  /** Attempts after the first (idempotent methods, UNAVAILABLE before any reply). */
  readonly retries: Counter<'upstream'>;
  /** Retries the budget refused. */
  readonly retriesRefused: Counter<'upstream'>;
  /** Seconds from sending an attempt to its status. */
  readonly latency: Histogram<'upstream'>;
  /** Endpoints that pass their health check and are not ejected. */
  readonly healthyEndpoints: Gauge<'upstream'>;
}

const registered = new WeakMap<Registry, UpstreamMetrics>();

/** The upstream series on `registry`, declared once however many upstreams use them. */
export function upstreamMetrics(registry: Registry): UpstreamMetrics {
  let metrics = registered.get(registry);
  if (metrics === undefined) {
    const registers = [registry];
    metrics = {
      calls: new Counter({
        name: 'gatehouse_upstream_calls_total',
        help: 'Attempts sent to an upstream, by the code they ended with.',
        labelNames: ['upstream', 'grpc_code'],
        registers,
      }),
      failures: new Counter({
        name: 'gatehouse_upstream_failures_total',
        help: 'Attempts that ended UNAVAILABLE (connection failed or reset, or the upstream said so).',
        labelNames: ['upstream'],
        registers,
      }),
      ejections: new Counter({
        name: 'gatehouse_upstream_ejections_total',
        help: 'Endpoints ejected after consecutive failures.',
        labelNames: ['upstream'],
        registers,
      }),
      retries: new Counter({
        name: 'gatehouse_upstream_retries_total',
        help: 'Retried attempts of idempotent methods.',
        labelNames: ['upstream'],
        registers,
      }),
      retriesRefused: new Counter({
        name: 'gatehouse_upstream_retries_refused_total',
        help: 'Retries the retry budget refused.',
        labelNames: ['upstream'],
        registers,
      }),
      latency: new Histogram({
        name: 'gatehouse_upstream_latency_seconds',
        help: 'Time from sending an attempt to an upstream to its status.',
        labelNames: ['upstream'],
        registers,
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      }),
      // With several worker processes each checks on its own; the primary reports the least any of them sees.
      healthyEndpoints: new Gauge({
        name: 'gatehouse_upstream_healthy_endpoints',
        help: 'Endpoints passing health checks and not ejected.',
        labelNames: ['upstream'],
        registers,
        aggregator: 'min',
      }),
    };
    registered.set(registry, metrics);
  }
  return metrics;
}
