import { Gauge, type Registry } from 'prom-client';
import type { HealthState } from '../health/health-state.js';

/** `gatehouse_health_serving{service}`: 1 while SERVING, 0 otherwise; `service=""` is the overall status. */
export const HEALTH_SERVING_METRIC = Object.freeze({
  name: 'gatehouse_health_serving',
  help: 'Health status per hosted service as grpc.health.v1 reports it: 1 SERVING, 0 otherwise. service="" is the overall status.',
});

/** Mirrors the health state into `gatehouse_health_serving`, read at scrape time so it can never lag. */
export function registerHealthMetrics(registry: Registry, health: Pick<HealthState, 'snapshot'>): void {
  new Gauge({
    ...HEALTH_SERVING_METRIC,
    labelNames: ['service'],
    registers: [registry],
    // With several worker processes (serve --workers N) the primary merges their series: SERVING only if all are.
    aggregator: 'min',
    collect() {
      for (const [service, status] of Object.entries(health.snapshot())) this.set({ service }, status === 'SERVING' ? 1 : 0);
    },
  });
}
