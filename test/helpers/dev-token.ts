import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import type { DevCertificateSet, DevClientName } from '../../certs/dev-certificates.js';
import { mintDevToken, type DevTokenOptions } from '../../src/auth/dev-token.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

/** Where a test certificate set keeps its development token-signing key (pass as `auth.devSigningKey.file`). */
export function devSigningKeyFile(certs: DevCertificateSet): string {
  return join(certs.dir, 'token-signing.key');
}

/**
 * A development token for one of the dev clients: `sub` is its certificate
 * identity, scopes are every scope the policy names (so it may call
 * everything), signed with the set's development key.
 */
export function devTokenFor(
  certs: DevCertificateSet,
  client: DevClientName,
  options: Partial<DevTokenOptions> = {},
  config?: Pick<Config, 'auth' | 'policy'>,
): string {
  const effective = config ?? loadConfig({ overrides: { 'auth.devSigningKey.file': devSigningKeyFile(certs) } });
  return mintDevToken(effective, { subject: certs.clients[client].identity, ...options });
}

/** Channel credentials that also send `authorization: Bearer <token>` on every call. */
export function withBearerToken(channel: grpc.ChannelCredentials, token: string): grpc.ChannelCredentials {
  const header = `Bearer ${token}`;
  return grpc.credentials.combineChannelCredentials(
    channel,
    grpc.credentials.createFromMetadataGenerator((_params, callback) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', header);
      callback(null, metadata);
    }),
  );
}
