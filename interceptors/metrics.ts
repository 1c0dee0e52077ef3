import type { Metadata, ServerInterceptor, ServiceDefinition } from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { effectiveDeadlineMs, resolveOutcomeCode } from './call-outcome.js';
import { ForwardingCall, type PartialStatus } from './forwarding-call.js';
import { GO_CODE_NAMES, methodNames, methodsOf, type MethodNames } from './method-names.js';

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

/** Options for {@link createMetricsInterceptor}. */
export interface MetricsInterceptorOptions {
  /** Where the series are registered; never a global registry. */
  registry: Registry;
  /** Every service the server hosts: each method's series exist (at 0) from start, as go-grpc-middleware's InitializeMetrics does. */
  services: readonly ServiceDefinition[];
  /** Buckets of `grpc_server_handling_seconds`, in seconds. Default {@link DEFAULT_HANDLING_BUCKETS_SECONDS}. */
  handlingBucketsSeconds?: readonly number[];
  /** Monotonic clock in milliseconds, for tests. Default `performance.now`. */
  nowMs?: () => number;
  /** Wall clock in epoch milliseconds, to tell a timed-out call from a cancelled one. Default `Date.now`. */
  wallClockMs?: () => number;
}

const CODE_COUNT = GO_CODE_NAMES.length;

/**
 * Per-method counts. Counters are plain numbers bumped on the hot path and
 * handed to prom-client when Prometheus scrapes (prom-client hashes the label
 * set on every `inc`); label objects are built once here.
 */
class MethodSeries {
  started = 0;
  received = 0;
  sent = 0;
  inflight = 0;
  readonly handled = new Float64Array(CODE_COUNT);
  readonly labels: Readonly<Record<'grpc_type' | 'grpc_service' | 'grpc_method', string>>;
  readonly codeLabels: readonly Readonly<Record<string, string>>[];
  readonly inflightLabels: Readonly<Record<'grpc_service' | 'grpc_method', string>>;

  constructor(readonly names: MethodNames) {
    this.labels = Object.freeze({ grpc_type: names.type, grpc_service: names.service, grpc_method: names.method });
    this.codeLabels = GO_CODE_NAMES.map((code) => Object.freeze({ ...this.labels, grpc_code: code }));
    this.inflightLabels = Object.freeze({ grpc_service: names.service, grpc_method: names.method });
  }
}

/**
 * Counts every call the way go-grpc-middleware does: started, handled by code
 * (Go's spelling: `OK`, `Canceled`, `DeadlineExceeded`, ...), messages each
 * way, and the handling-time histogram; plus `gatehouse_inflight_calls`.
 *
 * A call is finished in `onCancel`, which grpc-js fires exactly once at the
 * end of every call, including the calls it ends by itself (deadline, client
 * cancel) whose status no interceptor's `sendStatus` sees (DESIGN.md). Put
 * interceptors/call-outcome.ts first in the chain so such calls get the code
 * grpc-js wrote.
 */
export function createMetricsInterceptor(options: MetricsInterceptorOptions): ServerInterceptor {
  const now = options.nowMs ?? (() => performance.now());
  const wallClock = options.wallClockMs ?? Date.now;
  const byPath = new Map<string, MethodSeries>();
  for (const names of methodsOf(options.services)) byPath.set(names.path, new MethodSeries(names));

  const flush = () => {
    for (const series of byPath.values()) {
      if (series.started > 0) { started.inc(series.labels, series.started); series.started = 0; }
      if (series.received > 0) { received.inc(series.labels, series.received); series.received = 0; }
      if (series.sent > 0) { sent.inc(series.labels, series.sent); series.sent = 0; }
      for (let code = 0; code < CODE_COUNT; code++) {
        const count = series.handled[code]!;
        if (count > 0) { handled.inc(series.codeLabels[code]!, count); series.handled[code] = 0; }
      }
    }
  };
  const labelNames = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
  const m = GRPC_SERVER_METRICS;
  // Each counter flushes all pending counts, so one scrape sees a consistent set whichever it collects first.
  const started = new Counter({ ...m.started, labelNames, registers: [options.registry], collect: flush });
  const handled = new Counter({ ...m.handled, labelNames: [...labelNames, 'grpc_code'], registers: [options.registry], collect: flush });
  const received = new Counter({ ...m.received, labelNames, registers: [options.registry], collect: flush });
  const sent = new Counter({ ...m.sent, labelNames, registers: [options.registry], collect: flush });
  const seconds = new Histogram({
    ...m.seconds, labelNames, buckets: [...(options.handlingBucketsSeconds ?? DEFAULT_HANDLING_BUCKETS_SECONDS)], registers: [options.registry],
  });
  const inflight = new Gauge({
    ...m.inflight, labelNames: ['grpc_service', 'grpc_method'], registers: [options.registry],
    collect() {
      for (const series of byPath.values()) this.set(series.inflightLabels, series.inflight);
    },
  });
  // Series exist from start, at zero, for every method and code.
  for (const series of byPath.values()) {
    started.inc(series.labels, 0);
    received.inc(series.labels, 0);
    sent.inc(series.labels, 0);
    for (const labels of series.codeLabels) handled.inc(labels, 0);
    seconds.zero(series.labels);
    inflight.set(series.inflightLabels, 0);
  }

  const seriesFor = (path: string, requestStream: boolean, responseStream: boolean): MethodSeries => {
    let series = byPath.get(path);
    if (series === undefined) {
      // A method registered after start (grpc-js answers unknown paths itself, so this set stays bounded).
      series = new MethodSeries(methodNames(path, requestStream, responseStream));
      byPath.set(path, series);
    }
    return series;
  };

  class MetricsCall extends ForwardingCall {
    private startMs = -1;
    private seenCode = -1;
    private metadata: Metadata | undefined;

    constructor(next: ConstructorParameters<typeof ForwardingCall>[0], private readonly series: MethodSeries) {
      super(next);
    }

    override onReceiveMetadata(metadata: Metadata): void {
      // Counted here, not in start: grpc-js skips listeners (and onCancel) for a stream that closed before start.
      this.metadata = metadata;
      this.startMs = now();
      this.series.started++;
      this.series.inflight++;
      this.listener.onReceiveMetadata(metadata);
    }
    override onReceiveMessage(message: unknown): void {
      this.series.received++;
      this.listener.onReceiveMessage(message);
    }
    override sendMessage(message: unknown, callback: () => void): void {
      this.series.sent++;
      this.next.sendMessage(message, callback);
    }
    override sendStatus(status: PartialStatus): void {
      if (this.seenCode < 0) this.seenCode = status.code;
      this.next.sendStatus(status);
    }
    override onCancel(): void {
      if (this.startMs >= 0) {
        const code = resolveOutcomeCode(this.metadata, this.seenCode, effectiveDeadlineMs(this.metadata, this.next.getDeadline()), wallClock());
        this.series.handled[code < CODE_COUNT ? code : 2]!++;
        this.series.inflight--;
        seconds.observe(this.series.labels, (now() - this.startMs) / 1000);
        this.startMs = -1;
      }
      this.listener.onCancel();
    }
  }

  return (method, call) => new MetricsCall(call, seriesFor(method.path, method.requestStream, method.responseStream)).asInterceptingCall();
}
