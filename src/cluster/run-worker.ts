import type { ConfigSources } from '../config/load.js';
import { createLogger } from '../logging/logger.js';
import { loadConfig } from '../config/load.js';
import { startFromConfig } from '../main.js';
import { answerMetricsRequests } from './cluster-metrics.js';
import type { WorkerMessage } from './messages.js';

/**
 * One worker of `serve --workers N`. It serves the gRPC listeners (cluster
 * shares their ports) but not the admin port, which the primary owns; it
 * reports its health to the primary and answers its metric requests with its
 * own registry.
 */
export async function runWorker(sources: ConfigSources, workerId: number): Promise<void> {
  const withoutAdmin = { ...sources, overrides: { ...sources.overrides, 'admin.enabled': false } };
  const config = loadConfig(withoutAdmin);
  const logger = createLogger({ level: config.logging.level }).child({ worker: workerId });
  const { gateway, addresses } = await startFromConfig(withoutAdmin, logger);
  const send = (message: WorkerMessage) => process.send?.(message);
  // The primary sums what workers answer (src/cluster/cluster-metrics.ts).
  process.on('message', answerMetricsRequests(gateway.registry, send));
  const reportHealth = () =>
    send({
      type: 'gatehouse:health',
      ready: gateway.health.isReady(),
      draining: gateway.health.isDraining(),
      services: gateway.health.snapshot(),
    });
  gateway.health.onChange(reportHealth);
  send({ type: 'gatehouse:listening', grpcPort: addresses.grpcPort, healthPort: addresses.healthPort });
  reportHealth();

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    gateway.shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // If the primary dies, do not linger as an orphan holding the ports.
  process.on('disconnect', stop);
}
