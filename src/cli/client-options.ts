import type * as grpc from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { bearerMetadata, channelCredentials, createClient } from '../client/grpc-client.js';
import type { ServiceClients, ServiceName } from '../generated/services.js';
import { devTokenIfAvailable } from '../auth/dev-token.js';
import { loadConfig } from '../config/load.js';
import { processConfigSources } from '../config/process-sources.js';
import { UsageError } from './command.js';

/** Flags every client command takes. */
export const CLIENT_FLAGS = {
  target: { type: 'string', default: 'localhost:50051' },
  ca: { type: 'string', default: 'certs/dev/ca.crt' },
  cert: { type: 'string', default: 'certs/dev/client-alice.crt' },
  key: { type: 'string', default: 'certs/dev/client-alice.key' },
  insecure: { type: 'boolean', default: false },
  token: { type: 'string' },
  timeout: { type: 'string', default: '30s' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

/** Usage lines for {@link CLIENT_FLAGS}. */
export const CLIENT_FLAGS_USAGE = `Connection flags:
  --target HOST:PORT   gateway address (default localhost:50051)
  --ca FILE            CA that signed the server certificate (default certs/dev/ca.crt)
  --cert FILE          client certificate (default certs/dev/client-alice.crt)
  --key FILE           client private key (default certs/dev/client-alice.key)
  --insecure           plaintext, for a gateway in insecure mode
  --token JWT          bearer token (default: $GATEHOUSE_TOKEN, else a 5-minute development token
                       when the development signing key exists; see gatehouse token mint)
  --timeout DURATION   deadline per call: 500ms, 30s, 2m (default 30s)
  --json               machine-readable output, one JSON document per reply`;

/** Parsed connection settings of a client command. */
export interface ClientSettings {
  target: string;
  credentials: grpc.ChannelCredentials;
  metadata: grpc.Metadata;
  timeoutMs: number;
  json: boolean;
}

/** Parses a client command's flags (the common ones plus `extra`). */
export function parseClientArgs<E extends NonNullable<ParseArgsConfig['options']>>(argv: string[], extra: E) {
  try {
    return parseArgs({ args: argv, options: { ...CLIENT_FLAGS, ...extra }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Turns the common flags into a target, credentials and call metadata, with messages a person can act on. */
export function clientSettings(values: Record<string, unknown>): ClientSettings {
  const target = String(values.target);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target) && !target.startsWith('dns:') && !target.startsWith('unix:')) {
    const hostPort = target.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
    throw new UsageError(`--target takes HOST:PORT, not a URL: gRPC does not use http:// or https:// targets. Try --target ${hostPort}`);
  }
  let credentials: grpc.ChannelCredentials;
  if (values.insecure) {
    credentials = channelCredentials('insecure');
  } else {
    for (const flag of ['ca', 'cert', 'key'] as const) {
      const path = String(values[flag]);
      if (!existsSync(path)) {
        throw new UsageError(
          `--${flag} ${path} does not exist${path.startsWith('certs/dev/') ? ' (run `npm start` once, or `npm run certs`, to make the development certificates)' : ''}`,
        );
      }
    }
    credentials = channelCredentials({ caFile: String(values.ca), certFile: String(values.cert), keyFile: String(values.key) });
  }
  // Without --token or GATEHOUSE_TOKEN, a development gateway's key (if present) signs a 5-minute token for --cert's identity.
  const token =
    (values.token as string | undefined) ?? process.env.GATEHOUSE_TOKEN ?? (values.insecure ? undefined : developmentToken(String(values.cert)));
  return { target, credentials, metadata: bearerMetadata(token), timeoutMs: parseDurationMs(String(values.timeout)), json: Boolean(values.json) };
}

/** A development token when the local config has a development key; a config that does not load means none. */
function developmentToken(certFile: string): string | undefined {
  try {
    return devTokenIfAvailable(loadConfig(processConfigSources(undefined)), certFile);
  } catch {
    return undefined;
  }
}

/** The generated client of a Gatehouse service, using the settings. */
export function connect<N extends ServiceName>(serviceName: N, settings: ClientSettings): ServiceClients[N] {
  return createClient(serviceName, settings.target, settings.credentials);
}

/** `500ms`, `30s`, `2m` or a bare number of seconds. */
export function parseDurationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--timeout ${text} is not a duration; use e.g. 500ms, 30s or 2m`);
  const value = Number(match[1]);
  return Math.round(match[2] === 'ms' ? value : match[2] === 'm' ? value * 60_000 : value * 1000);
}
