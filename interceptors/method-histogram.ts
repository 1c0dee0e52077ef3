import type { Registry } from 'prom-client';

/** One label set's observations: counts per bucket (not cumulative), sum and count. */
export interface HistogramSeries {
  /** Adds one observation, in the histogram's unit. No allocation, no label hashing. */
  observe(value: number): void;
}

/** The shape prom-client's registry reads from a metric (what its own Histogram's `get()` returns). */
interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A Prometheus histogram whose label sets are all known at start (one per
 * method), so each gets a handle that observes with a bucket search and three
 * additions. prom-client's own Histogram hashes the label set and validates it
 * on every `observe` (about 1 us, several allocations); here that work happens
 * at scrape time. It registers like any prom-client metric (`get()` returns
 * the same shape, with `aggregator: 'sum'`, so cluster aggregation sums it).
 */
export class MethodHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: { labels: Readonly<Record<string, string>>; buckets: Float64Array; sum: number; count: number }[] = [];

  /**
   * @param name metric name. @param help help text.
   * @param upperBounds bucket upper bounds, ascending, in the observed unit (`+Inf` is added).
   */
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series for one label set, at zero. Call once per label set, at start. */
  seriesFor(labels: Readonly<Record<string, string>>): HistogramSeries {
    const bounds = this.upperBounds;
    const entry = { labels, buckets: new Float64Array(bounds.length + 1), sum: 0, count: 0 };
    this.series.push(entry);
    return {
      observe(value) {
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        entry.buckets[i]!++;
        entry.sum += value;
        entry.count++;
      },
    };
  }

  /** As prom-client's metrics: name, help, type and the cumulative bucket values. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const values: MetricValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const entry of this.series) {
      let cumulative = 0;
      for (let i = 0; i <= this.upperBounds.length; i++) {
        cumulative += entry.buckets[i]!;
        values.push({
          labels: { ...entry.labels, le: i < this.upperBounds.length ? this.upperBounds[i]! : '+Inf' },
          value: cumulative,
          metricName: bucketName,
        });
      }
      values.push({ labels: entry.labels, value: entry.sum, metricName: `${this.name}_sum` });
      values.push({ labels: entry.labels, value: entry.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Zeroes every series (prom-client's `Registry.resetMetrics`). */
  reset(): void {
    for (const entry of this.series) {
      entry.buckets.fill(0);
      entry.sum = 0;
      entry.count = 0;
    }
  }
}
