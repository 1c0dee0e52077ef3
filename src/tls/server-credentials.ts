import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';

/**
 * Credentials for the main listener from config: `mtls` requires a client
 * certificate chaining to the configured CA, `tls` only encrypts, `insecure`
 * is plaintext for local development.
 */
export function createServerCredentials(tls: Config['server']['tls']): grpc.ServerCredentials {
  if (tls.mode === 'insecure') return grpc.ServerCredentials.createInsecure();
  const pair = { cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) };
  if (tls.mode === 'tls') return grpc.ServerCredentials.createSsl(null, [pair], false);
  return grpc.ServerCredentials.createSsl(readFileSync(tls.clientCaFile), [pair], true);
}
