import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { DevCertificateSet } from '../../certs/dev-certificates.js';
import { devSigningKeyFile } from './dev-token.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A gateway running as a real child process (for signals and kill -9). */
export interface GatewayProcess {
  child: ChildProcess;
  grpcPort: number;
  healthPort: number;
  adminPort: number;
  /** Every line the process wrote to stdout and stderr. */
  output: string[];
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

/**
 * Starts `gatehouse serve` (with `serveArgs`, e.g. `--workers 2`) and the given env overrides on
 * ephemeral loopback ports; resolves once it listens. `options.command` replaces the node arguments
 * before `serve` (default `--import tsx src/cli/gatehouse.ts`).
 */
/**
 * The environment of a gateway process on loopback with every port 0 (the real ones come in its "listening"
 * line), the test certificate set and its development signing key, and its own SQLite file.
 */
export function gatewayProcessEnv(certs: DevCertificateSet, sqlitePath: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GATEHOUSE_CONFIG: 'config/default.yaml',
    GATEHOUSE_SERVER__HOST: '127.0.0.1',
    GATEHOUSE_SERVER__PORT: '0',
    GATEHOUSE_HEALTH__HOST: '127.0.0.1',
    GATEHOUSE_HEALTH__PORT: '0',
    GATEHOUSE_ADMIN__HOST: '127.0.0.1',
    GATEHOUSE_ADMIN__PORT: '0',
    GATEHOUSE_SERVER__TLS__CERT_FILE: certs.serverCert,
    GATEHOUSE_SERVER__TLS__KEY_FILE: certs.serverKey,
    GATEHOUSE_SERVER__TLS__CLIENT_CA_FILE: certs.caCert,
    GATEHOUSE_SERVER__TLS__GENERATE_DEV_CERTIFICATES: 'false',
    GATEHOUSE_STORAGE__SQLITE_PATH: sqlitePath,
    // Tokens for this process are minted with the certificate set's development key (test/helpers/dev-token.ts).
    GATEHOUSE_AUTH__DEV_SIGNING_KEY__FILE: devSigningKeyFile(certs),
  };
}

export async function spawnGateway(
  certs: DevCertificateSet,
  sqlitePath: string,
  env: Record<string, string> = {},
  serveArgs: string[] = ['--workers', '1'],
  options: { command?: string[] } = {},
): Promise<GatewayProcess> {
  // Default: the TypeScript CLI under tsx; `options.command` runs another entry (the compiled dist/ one).
  const command = options.command ?? ['--import', 'tsx', 'src/cli/gatehouse.ts'];
  const child = spawn(process.execPath, [...command, 'serve', ...serveArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...gatewayProcessEnv(certs, sqlitePath),
      // Speech engines take seconds to warm up; these tests are about the process, not speech.
      GATEHOUSE_TTS__ENABLED: 'false',
      GATEHOUSE_STT__ENABLED: 'false',
      ...env,
    },
  });
  const output: string[] = [];
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const listening = new Promise<{ grpcPort: number; healthPort: number; adminPort: number }>((resolve, reject) => {
    const onLine = (line: string) => {
      output.push(line);
      // Workers of a cluster log their own "listening" without the admin port; the process is up when the primary's line comes.
      if (line.includes('"msg":"listening"') && line.includes('"adminPort"'))
        resolve(JSON.parse(line) as { grpcPort: number; healthPort: number; adminPort: number });
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        lines.forEach(onLine);
      });
    }
    void exited.then((code) => reject(new Error(`gateway exited (${code}) before listening:\n${output.join('\n')}`)));
  });
  const ports = await listening;
  return { child, ...ports, output, exited };
}
