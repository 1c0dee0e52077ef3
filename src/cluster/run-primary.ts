import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { ensureDevCertificates } from '../../certs/dev-certificates.js';
import { startAdminServer } from '../admin/admin-server.js';
import { loadConfig, type ConfigSources } from '../config/load.js';
import { createLogger } from '../logging/logger.js';
import { createClusterMetrics } from './cluster-metrics.js';
import { isWorkerMessage, type WorkerHealthMessage } from './messages.js';

/** Options for {@link runPrimary}. */
export interface PrimaryOptions {
  /** Worker processes to keep running. */
  workers: number;
  /** Least time between two replacements of crashed workers, in ms, so a crash loop does not spin. Default 1000. */
  respawnDelayMs?: number;
}

/**
 * The primary of `serve --workers N`: forks N workers that share the gRPC
 * ports, serves the admin port itself (metrics summed across workers, /readyz
 * true only when every worker is ready), replaces dead workers, and on SIGTERM
 * drains every worker before exiting 0.
 */
export async function runPrimary(sources: ConfigSources, options: PrimaryOptions): Promise<void> {
  const config = loadConfig(sources); // validate once, before any fork: bad config never reaches N workers
  const logger = createLogger({ level: config.logging.level }).child({ role: 'primary' });
  const tls = config.server.tls;
  if (tls.mode !== 'insecure' && tls.generateDevCertificates && !existsSync(tls.certFile)) {
    // Made here, once, so workers do not race to write the same files.
    ensureDevCertificates(dirname(resolve(tls.certFile)));
  }
  const clusterMetrics = createClusterMetrics({ timeoutMs: config.admin.workerMetricsTimeoutMs });
  const liveWorkers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  const health = new Map<number, WorkerHealthMessage>();
  const ports: { grpcPort?: number; healthPort?: number } = {};
  let draining = false;
  let announced = false;

  const allReady = () => !draining && health.size === options.workers && [...health.values()].every((h) => h.ready);
  const admin = config.admin.enabled
    ? await startAdminServer({
        host: config.admin.host,
        port: config.admin.port,
        registry: new Registry(), // only its content type is used: the text comes from metricsText
        metricsText: () => clusterMetrics.metrics(liveWorkers()),
        health: {
          isReady: allReady,
          isDraining: () => draining,
          snapshot: () => Object.fromEntries([...health.entries()].map(([id, h]) => [`worker-${id}`, h.ready ? 'SERVING' : 'NOT_SERVING'])),
        },
      })
    : undefined;

  let lastRespawnMs = 0;
  const fork = (): Worker => {
    const worker = cluster.fork();
    logger.info('worker started', { worker: worker.id, pid: worker.process.pid });
    worker.on('message', (message: unknown) => {
      if (clusterMetrics.onMessage(worker, message) || !isWorkerMessage(message)) return;
      if (message.type === 'gatehouse:health') health.set(worker.id, message);
      else if (message.type === 'gatehouse:listening') {
        ports.grpcPort = message.grpcPort;
        ports.healthPort = message.healthPort;
      }
      if (!announced && [...Object.values(cluster.workers ?? {})].length === options.workers && health.size === options.workers) {
        announced = true;
        logger.info('listening', { ...ports, adminPort: admin?.port, workers: options.workers });
      }
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    health.delete(worker.id);
    clusterMetrics.onExit(worker);
    if (draining) return;
    logger.error('worker died; starting a replacement', { worker: worker.id, code, signal });
    const wait = Math.max(0, (options.respawnDelayMs ?? 1000) - (Date.now() - lastRespawnMs));
    setTimeout(() => {
      lastRespawnMs = Date.now();
      fork();
    }, wait);
  });

  for (let i = 0; i < options.workers; i += 1) fork();

  const stop = () => {
    if (draining) return;
    draining = true;
    logger.info('draining every worker');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exits = workers.map((w) => new Promise<void>((done) => (w.isDead() ? done() : w.once('exit', () => done()))));
    for (const worker of workers) worker.process.kill('SIGTERM');
    void Promise.all(exits).then(async () => {
      await admin?.close();
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
