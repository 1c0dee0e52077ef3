import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDevCertificates } from '../certs/dev-certificates.js';
import { ConfigError, loadConfig, type ConfigSources } from './config/load.js';
import { processConfigSources } from './config/process-sources.js';
import type { Config } from './config/schema.js';
import { createLogger, type Logger } from './logging/logger.js';
import { createGateway, type Gateway, type GatewayAddresses } from './server.js';
import { createTelemetry } from './telemetry/telemetry.js';
import { discoverRoutes } from './upstream/discover-routes.js';

export { processConfigSources } from './config/process-sources.js';

/** A running gateway process and how to stop it. */
export interface RunningGateway {
  gateway: Gateway;
  addresses: GatewayAddresses;
  config: Config;
}

/**
 * Loads config, makes development certificates when allowed and missing,
 * builds the gateway and listens. Config errors throw before anything listens.
 */
export async function startFromConfig(sources: ConfigSources, logger?: Logger): Promise<RunningGateway> {
  const config = loadConfig(sources);
  const log = logger ?? createLogger({ level: config.logging.level });
  const tls = config.server.tls;
  if (tls.mode !== 'insecure' && tls.generateDevCertificates && !existsSync(tls.certFile)) {
    const set = ensureDevCertificates(dirname(resolve(tls.certFile)));
    log.warn('made a development CA and certificates; do not use them in production', { dir: set.dir });
  }
  // OTEL_* variables come from the same environment the config was read from.
  const telemetry = createTelemetry({ config: config.tracing, env: sources.env ?? {} });
  if (telemetry.sdkEnabled) log.info('tracing: OpenTelemetry SDK on', { serviceName: sources.env?.OTEL_SERVICE_NAME ?? config.tracing.serviceName });
  // Routed services' methods are known before the gateway is built: the chain, policy and metrics cover them from start.
  const routes = await discoverRoutes(config, log);
  const gateway = createGateway({ config, logger: log, telemetry, routes });
  const addresses = await gateway.listen();
  log.info('listening', { ...addresses, tls: tls.mode });
  return { gateway, addresses, config };
}

/**
 * `gatehouse serve`: runs until SIGTERM or SIGINT, then drains and exits 0.
 * A second signal during the drain exits at once with 130.
 */
export async function serve(sources: ConfigSources): Promise<void> {
  let running: RunningGateway;
  try {
    running = await startFromConfig(sources);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`gatehouse: ${signal} again, exiting without waiting\n`);
      process.exit(130);
    }
    stopping = true;
    running.gateway.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`gatehouse: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// `tsx src/main.ts` serves with the default config.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await serve(processConfigSources(undefined));
}
