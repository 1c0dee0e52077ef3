import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { createReloadingCredentials, type ReloadingCredentials } from './reloading-credentials.js';

/** Credentials for a listener, and what keeps them current. */
export interface ListenerCredentials {
  credentials: grpc.ServerCredentials;
  /** The reloading certificate source (tls and mtls modes). */
  certificates?: ReloadingCredentials;
  /** Stops watching the files. */
  close(): void;
}

/**
 * Credentials for the main listener from config: `mtls` requires a client
 * certificate chaining to the configured CA, `tls` only encrypts, `insecure`
 * is plaintext for local development. In tls and mtls modes the certificate,
 * key and CA are reloaded when their files change; a broken change is
 * refused and the last good files keep serving.
 */
export function createServerCredentials(tls: Config['server']['tls'], deps: { registry: Registry; logger: Logger }): ListenerCredentials {
  if (tls.mode === 'insecure') return { credentials: grpc.ServerCredentials.createInsecure(), close: () => {} };
  const certificates = createReloadingCredentials({
    certFile: tls.certFile,
    keyFile: tls.keyFile,
    clientCaFile: tls.mode === 'mtls' ? tls.clientCaFile : undefined,
    requireClientCertificate: tls.mode === 'mtls',
    reloadIntervalMs: tls.reloadIntervalMs,
    registry: deps.registry,
    logger: deps.logger,
  });
  return { credentials: certificates.credentials, certificates, close: () => certificates.close() };
}
