import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** HMAC algorithms; their keys are shared secrets. */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
/** Public-key algorithms jsonwebtoken 9 verifies. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;

/** An HMAC algorithm name. */
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
/** A public-key algorithm name. */
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];
/** Every algorithm a key may pin. `none` is deliberately not one. */
export type JwtAlgorithm = HmacAlgorithm | AsymmetricAlgorithm;

/**
 * What a `kid` may look like, in config and in tokens. No `/`, `\` or
 * whitespace: a kid is only ever a key in an in-memory map, and refusing path
 * characters keeps it from ever being mistaken for a file or URL later.
 */
export const KID_PATTERN = /^[A-Za-z0-9._:+=-]{1,128}$/;

/** True when `kid` is acceptable as a key id (pattern above, and not `.`/`..`). */
export function isValidKid(kid: string): boolean {
  return KID_PATTERN.test(kid) && kid !== '.' && kid !== '..';
}

/**
 * One verification key, prepared once. `key` is a KeyObject so jsonwebtoken
 * never re-parses key material per call, and `alg` pins the only algorithm
 * tokens under this kid may use: an RS256 key can never verify an HS256 token
 * (the RS256->HS256 confusion attack), nor the other way round.
 */
export interface VerificationKey {
  /** Key id matched against the token header's `kid`. */
  readonly kid: string;
  /** The one algorithm this key verifies. */
  readonly alg: JwtAlgorithm;
  /** Prepared key: `secret` for HMAC, `public` otherwise. */
  readonly key: KeyObject;
  /** Where the key came from (`config`, a file path, a URL), for logs; never key material. */
  readonly source: string;
}

const HASH_BYTES: Record<HmacAlgorithm, number> = { HS256: 32, HS384: 48, HS512: 64 };
const EC_CURVES: Record<'ES256' | 'ES384' | 'ES512', string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
const JWK_CURVES: Record<string, 'ES256' | 'ES384' | 'ES512'> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
const MIN_RSA_BITS = 2048;

/** True for an HMAC algorithm name. */
export function isHmacAlgorithm(alg: string): alg is HmacAlgorithm {
  return (HMAC_ALGORITHMS as readonly string[]).includes(alg);
}

/** True for a supported public-key algorithm name. */
export function isAsymmetricAlgorithm(alg: string): alg is AsymmetricAlgorithm {
  return (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg);
}

/**
 * Prepares an HMAC secret. RFC 7518 section 3.2: the secret must be at least
 * as long as the hash output (32 bytes for HS256); shorter ones are refused.
 */
export function hmacVerificationKey(kid: string, alg: HmacAlgorithm, secret: Buffer, source = 'config'): VerificationKey {
  assertKid(kid, source);
  if (!isHmacAlgorithm(alg)) throw new Error(`${source}: key ${kid}: ${alg} is not an HMAC algorithm`);
  if (secret.length < HASH_BYTES[alg]) {
    throw new Error(`${source}: key ${kid}: an ${alg} secret needs at least ${HASH_BYTES[alg]} bytes, got ${secret.length}`);
  }
  return Object.freeze({ kid, alg, key: createSecretKey(secret), source });
}

/**
 * Prepares a public key from PEM (SPKI public key or X.509 certificate) and
 * checks it fits the pinned algorithm: RSA of at least 2048 bits for RS/PS,
 * the matching curve for ES.
 */
export function pemVerificationKey(kid: string, alg: AsymmetricAlgorithm, pem: string | Buffer, source = 'config'): VerificationKey {
  assertKid(kid, source);
  if (!isAsymmetricAlgorithm(alg)) throw new Error(`${source}: key ${kid}: ${alg} is not a public-key algorithm`);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new Error(`${source}: key ${kid}: not a PEM public key or certificate (${(error as Error).message})`);
  }
  assertKeyFits(key, alg, `${source}: key ${kid}`);
  return Object.freeze({ kid, alg, key, source });
}

/**
 * Prepares one JWK from a JWKS. Symmetric (`oct`) keys are refused: a JWKS
 * is public by nature. Without `alg`, EC keys take the algorithm their curve
 * implies and RSA keys RS256.
 */
export function jwkVerificationKey(jwk: JsonWebKey & { kid?: unknown; alg?: unknown; use?: unknown }, source: string): VerificationKey {
  const kid = jwk.kid;
  if (typeof kid !== 'string') throw new Error(`${source}: a key has no kid`);
  assertKid(kid, source);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new Error(`${source}: key ${kid}: use is ${String(jwk.use)}, not sig`);
  if (jwk.kty === 'oct') throw new Error(`${source}: key ${kid}: symmetric keys do not belong in a JWKS`);
  let alg: unknown = jwk.alg;
  if (alg === undefined) alg = jwk.kty === 'EC' ? JWK_CURVES[String(jwk.crv)] : jwk.kty === 'RSA' ? 'RS256' : undefined;
  if (typeof alg !== 'string' || !isAsymmetricAlgorithm(alg)) {
    throw new Error(`${source}: key ${kid}: unsupported algorithm ${String(alg)} (kty ${String(jwk.kty)})`);
  }
  let key: KeyObject;
  try {
    // Only the public members: a JWKS that leaks `d` must not turn into a private key here.
    const { kty, n, e, crv, x, y } = jwk;
    key = createPublicKey({ key: { kty, n, e, crv, x, y } as JsonWebKey, format: 'jwk' });
  } catch (error) {
    throw new Error(`${source}: key ${kid}: invalid JWK (${(error as Error).message})`);
  }
  assertKeyFits(key, alg, `${source}: key ${kid}`);
  return Object.freeze({ kid, alg, key, source });
}

/** Result of reading a JWKS: the usable keys, and a line per key that was skipped. */
export interface JwksKeys {
  keys: VerificationKey[];
  problems: string[];
}

/** Reads every usable key of a JWKS document (`{"keys": [...]}`); a bad key is reported, not fatal to the rest. */
export function keysFromJwks(document: unknown, source: string): JwksKeys {
  const list = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) return { keys: [], problems: [`${source}: not a JWKS (no "keys" array)`] };
  const keys: VerificationKey[] = [];
  const problems: string[] = [];
  for (const entry of list) {
    try {
      keys.push(jwkVerificationKey(entry as JsonWebKey, source));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return { keys, problems };
}

function assertKid(kid: string, source: string): void {
  if (!isValidKid(kid)) throw new Error(`${source}: kid ${JSON.stringify(kid)} must match ${KID_PATTERN.source}`);
}

function assertKeyFits(key: KeyObject, alg: AsymmetricAlgorithm, where: string): void {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('ES')) {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const wanted = EC_CURVES[alg as keyof typeof EC_CURVES];
    if (type !== 'ec' || curve !== wanted) throw new Error(`${where}: ${alg} needs an EC ${wanted} key, got ${type} ${curve ?? ''}`.trim());
    return;
  }
  if (type !== 'rsa' && !(alg.startsWith('PS') && type === 'rsa-pss')) throw new Error(`${where}: ${alg} needs an RSA key, got ${type}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new Error(`${where}: RSA keys need at least ${MIN_RSA_BITS} bits, got ${bits}`);
}
