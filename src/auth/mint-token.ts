import { createHash, createPrivateKey, createSecretKey, X509Certificate, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { JwtAlgorithm } from '../../interceptors/verification-keys.js';

/** What goes into a minted token. */
export interface MintTokenOptions {
  /** Signing key: an HMAC secret (Buffer or secret KeyObject) or a private KeyObject/PEM for RS/PS/ES. */
  key: Buffer | KeyObject | string;
  /** Algorithm; must fit the key. Default HS256. */
  alg?: JwtAlgorithm;
  /** `kid` header. */
  kid?: string;
  /** `iss`. */
  issuer: string;
  /** `aud`. */
  audience: string | string[];
  /** `sub`. */
  subject: string;
  /** Granted scopes, written space-separated in `scope`. */
  scopes?: readonly string[];
  /** `client_id`, when given. */
  clientId?: string;
  /** Lifetime in seconds from `nowSec`; sets `exp`. */
  ttlSec: number;
  /** Bind the token to this certificate (PEM or DER): `cnf.x5t#S256` (RFC 8705). */
  bindCertificate?: string | Buffer;
  /** Issue time, epoch seconds. Default now. */
  nowSec?: number;
  /** Extra claims or overrides (tests). */
  extraClaims?: Record<string, unknown>;
}

/** Signs a token for development and tests. Never log the result: it is a credential. */
export function mintToken(options: MintTokenOptions): string {
  const alg = options.alg ?? 'HS256';
  const nowSec = options.nowSec ?? Math.floor(Date.now() / 1000);
  const key =
    typeof options.key === 'string' ? createPrivateKey(options.key) : Buffer.isBuffer(options.key) ? createSecretKey(options.key) : options.key;
  const claims: Record<string, unknown> = {
    iss: options.issuer,
    aud: options.audience,
    sub: options.subject,
    iat: nowSec,
    exp: nowSec + options.ttlSec,
  };
  if (options.scopes && options.scopes.length > 0) claims.scope = options.scopes.join(' ');
  if (options.clientId) claims.client_id = options.clientId;
  if (options.bindCertificate !== undefined) claims.cnf = { 'x5t#S256': certificateThumbprint(options.bindCertificate) };
  Object.assign(claims, options.extraClaims);
  return jwt.sign(claims, key, { algorithm: alg, ...(options.kid ? { keyid: options.kid } : {}) });
}

/** RFC 8705 `x5t#S256`: base64url SHA-256 of the certificate's DER. */
export function certificateThumbprint(certificate: string | Buffer): string {
  const der = new X509Certificate(certificate).raw;
  return createHash('sha256').update(der).digest('base64url');
}
