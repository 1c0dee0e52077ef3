import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The one registry of a gateway process, with prom-client's process and Node
 * series (CPU, memory, event loop lag, GC, handles) collected on it. Never
 * prom-client's global registry: tests run several gateways in one process.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
