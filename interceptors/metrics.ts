import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import { performance } from 'node:perf_hooks';
import type { GatewayCall, MethodHooks, Step } from './gateway-call.js';
import { MethodHistogram, type HistogramSeries } from './method-histogram.js';
import { GO_CODE_NAMES, type MethodNames } from './method-names.js';

/**
 * go-grpc-middleware's server metrics, names, help and labels as its Prometheus
 * provider has them, so dashboards and alerts written for Go servers work unchanged.
 */
export const GRPC_SERVER_METRICS = Object.freeze({
  started: { name: 'grpc_server_started_total', help: 'Total number of RPCs started on the server.' },
  handled: { name: 'grpc_server_handled_total', help: 'Total number of RPCs completed on the server, regardless of success or failure.' },
  received: { name: 'grpc_server_msg_received_total', help: 'Total number of RPC stream messages received on the server.' },
  sent: { name: 'grpc_server_msg_sent_total', help: 'Total number of gRPC stream messages sent by the server.' },
  seconds: {
    name: 'grpc_server_handling_seconds',
    help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
  },
  inflight: { name: 'gatehouse_inflight_calls', help: 'Calls started and not yet finished, per method.' },
});

/** Prometheus's default buckets, which go-grpc-middleware uses for the handling histogram. */
export const DEFAULT_HANDLING_BUCKETS_SECONDS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** Options for {@link createMetricsStep}. */
export interface MetricsStepOptions {
  /** Where the series are registered; never a global registry. */
  registry: Registry;
  /** Every method the server hosts: each method's series exist (at 0) from start, as go-grpc-middleware's InitializeMetrics does. */
  methods: readonly MethodNames[];
  /** Buckets of `grpc_server_handling_seconds`, in seconds. Default {@link DEFAULT_HANDLING_BUCKETS_SECONDS}. */
  handlingBucketsSeconds?: readonly number[];
}

const CODE_COUNT = GO_CODE_NAMES.length;

/**
 * Per-method counts. Counters are plain numbers bumped on the hot path and
 * handed to prom-client when Prometheus scrapes (prom-client hashes the label
 * set on every `inc`); label objects are built once here.
 */
class MethodSeries implements MethodHooks {
  started = 0;
  received = 0;
  sent = 0;
  inflight = 0;
  readonly handled = new Float64Array(CODE_COUNT);
  readonly labels: Readonly<Record<'grpc_type' | 'grpc_service' | 'grpc_method', string>>;
  readonly codeLabels: readonly Readonly<Record<string, string>>[];
  readonly inflightLabels: Readonly<Record<'grpc_service' | 'grpc_method', string>>;
  readonly seconds: HistogramSeries;

  constructor(names: MethodNames, histogram: MethodHistogram) {
    this.labels = Object.freeze({ grpc_type: names.type, grpc_service: names.service, grpc_method: names.method });
    this.codeLabels = GO_CODE_NAMES.map((code) => Object.freeze({ ...this.labels, grpc_code: code }));
    this.inflightLabels = Object.freeze({ grpc_service: names.service, grpc_method: names.method });
    this.seconds = histogram.seriesFor(this.labels);
  }

  // Counted at the headers, not at start: grpc-js skips listeners (and onCancel) for a stream that closed before start.
  admit(call: GatewayCall): undefined {
    this.started++;
    this.inflight++;
    call.counters = this;
    return undefined;
  }

  end(call: GatewayCall): void {
    const code = call.code;
    this.handled[code < CODE_COUNT ? code : 2]!++;
    this.inflight--;
    this.seconds.observe((performance.now() - call.startMs) / 1000);
  }
}

/**
 * Counts every call the way go-grpc-middleware does: started, handled by code
 * (Go's spelling: `OK`, `Canceled`, `DeadlineExceeded`, ...), messages each
 * way, and the handling-time histogram; plus `gatehouse_inflight_calls`.
 *
 * A call is finished when grpc-js says it is over (`onCancel`, which fires
 * exactly once at the end of every call, including the calls it ends by itself
 * whose status no interceptor sees; DESIGN.md), with the code the outcome step
 * saw on the wire.
 */
export function createMetricsStep(options: MetricsStepOptions): Step {
  const m = GRPC_SERVER_METRICS;
  const histogram = new MethodHistogram(
    m.seconds.name,
    m.seconds.help,
    options.handlingBucketsSeconds ?? DEFAULT_HANDLING_BUCKETS_SECONDS,
    options.registry,
  );
  const byPath = new Map<string, MethodSeries>();
  const flush = () => {
    for (const series of byPath.values()) {
      if (series.started > 0) {
        started.inc(series.labels, series.started);
        series.started = 0;
      }
      if (series.received > 0) {
        received.inc(series.labels, series.received);
        series.received = 0;
      }
      if (series.sent > 0) {
        sent.inc(series.labels, series.sent);
        series.sent = 0;
      }
      for (let code = 0; code < CODE_COUNT; code++) {
        const count = series.handled[code]!;
        if (count > 0) {
          handled.inc(series.codeLabels[code]!, count);
          series.handled[code] = 0;
        }
      }
    }
  };
  const labelNames = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
  // Each counter flushes all pending counts, so one scrape sees a consistent set whichever it collects first.
  const started = new Counter({ ...m.started, labelNames, registers: [options.registry], collect: flush });
  const handled = new Counter({ ...m.handled, labelNames: [...labelNames, 'grpc_code'], registers: [options.registry], collect: flush });
  const received = new Counter({ ...m.received, labelNames, registers: [options.registry], collect: flush });
  const sent = new Counter({ ...m.sent, labelNames, registers: [options.registry], collect: flush });
  const inflight = new Gauge({
    ...m.inflight,
    labelNames: ['grpc_service', 'grpc_method'],
    registers: [options.registry],
    collect() {
      for (const series of byPath.values()) this.set(series.inflightLabels, series.inflight);
    },
  });
  const seriesFor = (names: MethodNames): MethodSeries => {
    let series = byPath.get(names.path);
    if (series === undefined) {
      series = new MethodSeries(names, histogram);
      byPath.set(names.path, series);
      // Series exist from start, at zero, for every method and code.
      started.inc(series.labels, 0);
      received.inc(series.labels, 0);
      sent.inc(series.labels, 0);
      for (const labels of series.codeLabels) handled.inc(labels, 0);
      inflight.set(series.inflightLabels, 0);
    }
    return series;
  };
  for (const names of options.methods) seriesFor(names);
  // A method registered after start is prepared on its first call (grpc-js answers unknown paths itself, so this stays bounded).
  return { name: 'metrics', forMethod: seriesFor };
}
