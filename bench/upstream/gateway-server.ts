/**
 * A Gatehouse process routing helloworld.Greeter to one upstream, for bench/upstream.bench.ts:
 * `tsx bench/upstream/gateway-server.ts --dir DIR --upstream HOST:PORT --descriptor-set FILE`.
 *
 * The external benchmark's gateway config (config/default.yaml, its certificates, access log on) with speech
 * off, plus one upstream and one route described by a descriptor set. Prints its port on fd 3 once the routed
 * service is SERVING; SIGTERM drains it.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../../src/logging/logger.js';
import { createGateway } from '../../src/server.js';
import { discoverRoutes } from '../../src/upstream/discover-routes.js';
import { benchFilesIn, benchGatewayConfig } from '../external/bench-files.js';
import { announceReady } from '../external/servers/ready.js';

/** The routed service the benchmark calls. */
export const ROUTED_SERVICE = 'helloworld.Greeter';

const { values } = parseArgs({ options: { dir: { type: 'string' }, upstream: { type: 'string' }, 'descriptor-set': { type: 'string' } } });
if (!values.dir || !values.upstream || !values['descriptor-set']) throw new Error('--dir, --upstream and --descriptor-set are required');
const config = benchGatewayConfig(benchFilesIn(values.dir), `upstream-gateway-${process.pid}`, {
  'tts.enabled': false,
  upstreams: { bench: { targets: [values.upstream] } },
  routes: [{ service: ROUTED_SERVICE, upstream: 'bench', descriptorSetFile: values['descriptor-set'] }],
  'policy.services': { [ROUTED_SERVICE]: {} },
});
const logger = createLogger({ level: config.logging.level });
const gateway = createGateway({ config, logger, routes: await discoverRoutes(config, logger) });
const addresses = await gateway.listen();
await gateway.warmedUp();
announceReady({ port: addresses.grpcPort, routed: gateway.health.get(ROUTED_SERVICE) });
process.on('SIGTERM', () => void gateway.shutdown().then(() => process.exit(0)));
