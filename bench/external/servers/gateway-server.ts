/**
 * A Gatehouse server process for the external benchmark:
 * `tsx bench/external/servers/gateway-server.ts --dir DIR [--layer all|none|<layer>] [--stream-reply-file F]`.
 *
 * Builds the gateway exactly as `gatehouse serve --workers 1` does (createGateway from config/default.yaml,
 * the access log written to stdout, health and admin listeners on ephemeral ports), with the benchmark's
 * config (bench-files.ts) and optionally one chain layer alone. With `--stream-reply-file` it also hosts the
 * bench stream service, sending that file's bytes ten times per call. Prints its port on fd 3 once every
 * service is warm; SIGTERM drains it.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../../../src/logging/logger.js';
import { createGateway } from '../../../src/server.js';
import { benchFilesIn, benchGatewayConfig } from '../bench-files.js';
import { createBenchStreamService } from '../bench-stream-service.js';
import { chainWith, parseChainSelection } from '../chain-layers.js';
import { startAllocationProfile } from './allocation-profile.js';
import { announceReady } from './ready.js';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, layer: { type: 'string', default: 'all' }, 'stream-reply-file': { type: 'string' } },
});
if (!values.dir) throw new Error('--dir is required');
const selection = parseChainSelection(values.layer!);
const files = benchFilesIn(values.dir);
const config = benchGatewayConfig(files, `gateway-${process.pid}`);
const logger = createLogger({ level: config.logging.level });
const streamReply = values['stream-reply-file'];
const gateway = createGateway({
  config,
  logger,
  chainSteps: chainWith(selection),
  extraServices: streamReply ? [createBenchStreamService(readFileSync(streamReply))] : [],
});
const addresses = await gateway.listen();
await gateway.warmedUp();
const notServing = gateway.services.filter((service) => gateway.health.get(service.name) === 'NOT_SERVING');
const stopAllocationProfile = await startAllocationProfile();
announceReady({ port: addresses.grpcPort, layer: selection, notServing: notServing.map((s) => s.name) });
process.on(
  'SIGTERM',
  () =>
    void stopAllocationProfile()
      .then(() => gateway.shutdown())
      .then(() => process.exit(0)),
);
