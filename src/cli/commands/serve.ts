import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { UsageError, type CliCommand } from '../command.js';

const USAGE = `gatehouse serve [flags]

Runs the gateway until SIGTERM or SIGINT, then drains and exits 0.

Flags:
  --workers N          processes sharing the ports (server.workers; default one per core; 1 = no cluster)
  --config FILE        YAML or JSON config (default $GATEHOUSE_CONFIG, else config/default.yaml)
  --port N             main mTLS gRPC port (server.port)
  --health-port N      plaintext health-only gRPC port (health.port)
  --admin-port N       HTTP /metrics /healthz /readyz port (admin.port)
  --tls-mode MODE      mtls | tls | insecure (server.tls.mode)
  --data FILE          SQLite file for orders (storage.sqlitePath)
  --log-level LEVEL    debug | info | warn | error | silent

Environment overrides any file setting: GATEHOUSE_<SECTION>__<KEY>, e.g. GATEHOUSE_SERVER__PORT=50052.
Flags override both.`;

/** `gatehouse serve`. */
export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'run the gateway',
  usage: USAGE,
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        strict: true,
        options: {
          config: { type: 'string' },
          workers: { type: 'string' },
          port: { type: 'string' },
          'health-port': { type: 'string' },
          'admin-port': { type: 'string' },
          'tls-mode': { type: 'string' },
          data: { type: 'string' },
          'log-level': { type: 'string' },
        },
      }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    // The server is loaded only for `serve`: the client commands (`gatehouse cheese order`, ...) start without it.
    const [{ processConfigSources, serve }, { loadConfig }] = await Promise.all([import('../../main.js'), import('../../config/load.js')]);
    const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));
    const sources = processConfigSources(values.config, {
      'server.port': number(values.port),
      'health.port': number(values['health-port']),
      'admin.port': number(values['admin-port']),
      'server.tls.mode': values['tls-mode'],
      'storage.sqlitePath': values.data,
      'logging.level': values['log-level'],
      'server.workers': number(values.workers),
    });
    if (cluster.isWorker) {
      const { runWorker } = await import('../../cluster/run-worker.js');
      await runWorker(sources, cluster.worker!.id);
    } else {
      const workers = loadConfig(sources).server.workers || availableParallelism();
      if (workers === 1) await serve(sources);
      else await (await import('../../cluster/run-primary.js')).runPrimary(sources, { workers });
    }
    // serve() keeps running until a signal ends the process.
    return new Promise<number>(() => undefined);
  },
};
