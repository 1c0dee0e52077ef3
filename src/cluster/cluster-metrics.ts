import type { Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import type { WorkerMetricsReply } from './messages.js';

/** One worker's metrics as prom-client's `getMetricsAsJSON` gives them. */
type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** Options for {@link createClusterMetrics}. */
export interface ClusterMetricsOptions {
  /** How long a scrape waits for workers, in ms; a worker that has not answered by then is counted from its last answer. */
  timeoutMs: number;
}

/** The primary's view of every worker's metrics. */
export interface ClusterMetrics {
  /** Prometheus text: the sum over workers (prom-client's per-metric aggregators), within `timeoutMs`. */
  metrics(live: readonly Worker[]): Promise<string>;
  /** Route a worker's IPC message here; returns true when it was a metrics reply. */
  onMessage(worker: Worker, message: unknown): boolean;
  /** A worker exited: what its counters last said is kept, so summed counters never go backwards. */
  onExit(worker: Worker): void;
}

/**
 * Sums workers' metrics for `/metrics` on the primary, and stays a valid
 * Prometheus counter source while workers die:
 *
 * - a scrape asks every live worker and answers after `timeoutMs` at the
 *   latest, with the workers that answered (prom-client's own aggregation
 *   fails the whole scrape for 5 s when one worker does not answer);
 * - a worker that did not answer in time contributes its last answer's
 *   counters and histograms (never its gauges, which would be stale);
 * - when a worker exits, its last counters and histograms are folded into
 *   one "departed" snapshot that every later scrape adds, so a sum never
 *   drops by a dead worker's share (Prometheus would read that as a reset).
 *   Counts a worker made after its last answer die with it.
 *
 * Memory is bounded by the number of live workers and series, not by how
 * many workers have come and gone.
 */
export function createClusterMetrics(options: ClusterMetricsOptions): ClusterMetrics {
  /** Every worker's last answer, until its exit moves its monotonic part to `departed`. */
  const last = new Map<number, MetricsSnapshot>();
  /** Counters and histograms of exited workers; compacted into one snapshot when it grows. */
  let departed: MetricsSnapshot[] = [];
  let compacting = false;
  let nextRequestId = 1;
  const pending = new Map<number, { waiting: Set<number>; replies: Map<number, MetricsSnapshot>; done: () => void }>();

  return {
    async metrics(live) {
      const requestId = nextRequestId++;
      const replies = new Map<number, MetricsSnapshot>();
      const waiting = new Set<number>();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        pending.set(requestId, { waiting, replies, done });
        for (const worker of live) {
          if (!worker.isConnected()) continue;
          try {
            worker.send({ type: 'gatehouse:metrics-request', requestId });
            waiting.add(worker.id);
          } catch {
            // The channel closed between the check and the send: the worker is dying; its exit is handled.
          }
        }
        if (waiting.size === 0) done();
      });
      pending.delete(requestId);
      // Every worker not yet known to have exited: a dead one the cluster module has not reported yet still counts.
      const snapshots: MetricsSnapshot[] = [...departed];
      for (const [id, previous] of last) snapshots.push(replies.get(id) ?? monotonicOnly(previous));
      return AggregatorRegistry.aggregate(snapshots.filter((s) => s.length > 0)).metrics();
    },
    onMessage(worker, message) {
      if (!isMetricsReply(message)) return false;
      last.set(worker.id, message.metrics as MetricsSnapshot);
      const request = pending.get(message.requestId);
      if (request?.waiting.delete(worker.id)) {
        request.replies.set(worker.id, message.metrics as MetricsSnapshot);
        if (request.waiting.size === 0) request.done();
      }
      return true;
    },
    onExit(worker) {
      const previous = last.get(worker.id);
      last.delete(worker.id);
      for (const request of pending.values()) {
        if (request.waiting.delete(worker.id) && request.waiting.size === 0) request.done();
      }
      if (previous === undefined) return;
      departed.push(monotonicOnly(previous)); // at once: a scrape right after the exit must already count it
      if (departed.length <= 4 || compacting) return;
      // Folded into one snapshot, so memory does not grow with every worker that ever died. Only appended to
      // meanwhile, so the merged prefix is replaced exactly.
      compacting = true;
      const merging = departed.slice();
      void AggregatorRegistry.aggregate(merging.filter((s) => s.length > 0))
        .getMetricsAsJSON()
        .then((merged) => {
          departed = [merged as MetricsSnapshot, ...departed.slice(merging.length)];
        })
        .finally(() => {
          compacting = false;
        });
    },
  };
}

/** Counters and histograms only: what may be carried forward without lying. */
function monotonicOnly(snapshot: MetricsSnapshot): MetricsSnapshot {
  // At run time `type` is prom-client's string ('counter', ...), whatever its typings' enum says.
  return snapshot.filter((metric) => String(metric.type) === 'counter' || String(metric.type) === 'histogram');
}

function isMetricsReply(message: unknown): message is WorkerMetricsReply {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'gatehouse:metrics' &&
    typeof (message as { requestId?: unknown }).requestId === 'number' &&
    Array.isArray((message as { metrics?: unknown }).metrics)
  );
}

/** A worker's side: answer the primary's metrics requests with `registry`. */
export function answerMetricsRequests(registry: Registry, send: (message: WorkerMetricsReply) => void): (message: unknown) => void {
  return (message) => {
    if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'gatehouse:metrics-request') return;
    const requestId = (message as { requestId?: unknown }).requestId;
    if (typeof requestId !== 'number') return;
    void registry.getMetricsAsJSON().then((metrics) => send({ type: 'gatehouse:metrics', requestId, metrics }));
  };
}
