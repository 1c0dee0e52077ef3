import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { peerIdentityFromCertificate } from '../../interceptors/peer-identity.js';
import type { Config } from '../config/schema.js';
import { loadPolicyDocument, scopesInPolicy } from '../config/load-policy.js';
import { ensureDevSigningKey } from './dev-signing-key.js';
import { mintToken } from './mint-token.js';

/** What a development token says. */
export interface DevTokenOptions {
  /** `sub`; for the development clients their certificate identity (`spiffe://gatehouse.dev/client/alice`). */
  subject: string;
  /** Scopes; default every scope the configured policy names, so the token can call everything. */
  scopes?: readonly string[];
  /** Lifetime in seconds. Default 3600. */
  ttlSec?: number;
  /** Bind the token to this client certificate (PEM): `cnf.x5t#S256`, RFC 8705. */
  bindCertificate?: string | Buffer;
  /** `client_id`, when given. */
  clientId?: string;
}

/**
 * Signs a development token with the development key (`auth.devSigningKey`,
 * made on first use), for the configured issuer and audience. For
 * `gatehouse token mint` and tests; production tokens come from a real issuer.
 */
export function mintDevToken(config: Pick<Config, 'auth' | 'policy'>, options: DevTokenOptions): string {
  const dev = config.auth.devSigningKey;
  if (!dev.enabled) throw new Error('auth.devSigningKey is turned off in this configuration; tokens must come from the real issuer');
  const { secret } = ensureDevSigningKey(dev.file);
  const first = (value: string | readonly string[]) => (typeof value === 'string' ? value : value[0]!);
  return mintToken({
    key: secret,
    alg: 'HS256',
    kid: dev.kid,
    issuer: first(config.auth.issuer),
    audience: first(config.auth.audience),
    subject: options.subject,
    scopes: options.scopes ?? scopesInPolicy(loadPolicyDocument(config.policy)),
    clientId: options.clientId,
    ttlSec: options.ttlSec ?? 3600,
    bindCertificate: options.bindCertificate,
  });
}

/**
 * A short-lived development token for the client certificate in `certFile`,
 * when the development key already exists (the gateway made it): so a client
 * command against the development gateway works without `--token`, as
 * `gatehouse token mint` would. Never creates the key (a key the gateway does
 * not know would only produce refusals); undefined when there is none, when
 * it is turned off, or when the certificate has no identity.
 */
export function devTokenIfAvailable(config: Pick<Config, 'auth' | 'policy'>, certFile: string): string | undefined {
  const dev = config.auth.devSigningKey;
  if (!dev.enabled || !existsSync(dev.file)) return undefined;
  try {
    const subject = peerIdentityFromCertificate(new X509Certificate(readFileSync(certFile)).toLegacyObject())?.identity;
    return subject === undefined ? undefined : mintDevToken(config, { subject, ttlSec: 300 });
  } catch {
    return undefined;
  }
}
