import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { createCheeseService } from './cheese/cheese-service.js';
import { chooseOrderStore } from './cheese/open-order-store.js';
import { createSpeechToTextService } from './stt/index.js';
import { createTextToSpeechService } from './tts/index.js';
import type { HostedService } from './hosted-service.js';

/** What service factories may need besides their own config section. */
export interface ServiceDependencies {
  registry: Registry;
  logger: Logger;
}

/** Builds every enabled business service from config. Nothing starts or listens here. */
export function buildServices(config: Config, deps: ServiceDependencies): HostedService[] {
  const store = chooseOrderStore(config.storage, config.cheese.stock, deps.logger);
  const services: HostedService[] = [
    createCheeseService({
      openStore: store.open,
      describeStore: store.describe,
      probeIntervalMs: config.storage.probeIntervalMs,
      logger: deps.logger,
    }),
  ];
  if (config.tts.enabled) services.push(createTextToSpeechService({ registry: deps.registry, config: config.tts, logger: deps.logger }));
  if (config.stt.enabled) services.push(createSpeechToTextService({ registry: deps.registry, config: config.stt }));
  return services;
}
