/**
 * What every process of one external-benchmark run shares: a development
 * certificate set and signing key in one temporary directory, the gateway's
 * config overrides, and a development token for alice. The orchestrator makes
 * them once; the server processes it starts read them through `--dir`.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevCertificates, type DevCertificateSet } from '../../certs/dev-certificates.js';
import { mintDevToken } from '../../src/auth/dev-token.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { BENCH_STREAM_SERVICE } from './bench-stream-service.js';

/** The configuration the gateway is measured with: the project's defaults, as `npm start` uses them. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));

/** Paths of one run's shared files. */
export interface BenchFiles {
  /** The run's temporary directory; everything below lives in it. */
  dir: string;
  /** Development certificates (certs/dev-certificates.ts) made for this run. */
  certs: DevCertificateSet;
  /** The development token-signing key (`auth.devSigningKey.file`). */
  signingKeyFile: string;
  /** Where a gateway keeps its SQLite file (one per server process, by name). */
  dataDir: string;
}

/** Makes a fresh temporary directory with certificates; remove `dir` when done. */
export function makeBenchFiles(): BenchFiles {
  return benchFilesIn(mkdtempSync(join(tmpdir(), 'gatehouse-bench-')));
}

/** The files of a run whose directory already exists (server processes), making what is missing. */
export function benchFilesIn(dir: string): BenchFiles {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  return { dir, certs: ensureDevCertificates(join(dir, 'certs')), signingKeyFile: join(dir, 'certs', 'token-signing.key'), dataDir };
}

/**
 * The gateway config of the benchmark: config/default.yaml, with its own certificates, ephemeral loopback ports,
 * and the settings: speech recognition and Flite off, eSpeak with one worker thread (so ListVoices is
 * served), the bench stream service admitted by the policy with a scope the development token carries.
 */
export function benchGatewayConfig(files: BenchFiles, name = 'gateway', extraOverrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    file: DEFAULT_CONFIG_FILE,
    overrides: {
      'server.host': '127.0.0.1',
      'server.port': 0,
      'server.tls.certFile': files.certs.serverCert,
      'server.tls.keyFile': files.certs.serverKey,
      'server.tls.clientCaFile': files.certs.caCert,
      'server.tls.generateDevCertificates': false,
      'server.shutdownGraceMs': 1000,
      'health.host': '127.0.0.1',
      'health.port': 0,
      'admin.host': '127.0.0.1',
      'admin.port': 0,
      'storage.sqlitePath': join(files.dataDir, `${name}.db`),
      'auth.devSigningKey.file': files.signingKeyFile,
      'stt.enabled': false,
      'tts.flite.enabled': false,
      'tts.workers': 1,
      'policy.services': { [BENCH_STREAM_SERVICE]: { scopes: ['tts.synthesize'] } },
      // Other benchmarks' additions (bench/upstream/ routes a service to an upstream).
      ...extraOverrides,
    },
  });
}

/** A development token for alice that may call everything the policy names (as `gatehouse token mint` makes). */
export function benchToken(files: BenchFiles): string {
  return mintDevToken(benchGatewayConfig(files), { subject: files.certs.clients.alice.identity, ttlSec: 3600 });
}
