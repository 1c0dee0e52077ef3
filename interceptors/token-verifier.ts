import jwt from 'jsonwebtoken';
import { formatEpochSeconds, unauthenticated, type AuthFailure } from './auth-failure.js';
import { DEFAULT_MAX_TOKEN_BYTES } from './bearer-token.js';
import type { TokenPrincipal } from './call-state.js';
import type { KeyStore } from './key-store.js';
import { createTokenCache } from './token-cache.js';
import { isValidKid, type VerificationKey } from './verification-keys.js';

/** Options for {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  /** The loaded keys; a token's kid is looked up here and nowhere else. */
  keys: KeyStore;
  /** Accepted `iss` values; undefined accepts any issuer (not recommended). */
  issuer?: string | readonly string[];
  /** Accepted `aud` values (one must match); undefined skips the audience check (not recommended). */
  audience?: string | readonly string[];
  /** Refuse tokens without `exp`. Default true. */
  requireExp?: boolean;
  /** Tolerance for `exp`, `nbf` and clock differences, in seconds. Default 60. */
  clockSkewSec?: number;
  /** Longest accepted remaining lifetime `exp - max(iat, now)`, in seconds. Default unlimited. */
  maxTokenLifetimeSec?: number;
  /** Required `typ` header (e.g. `at+jwt`), compared case-insensitively with an optional `application/` prefix. Default not checked. */
  typ?: string;
  /** Largest token, in bytes. Default 8192. */
  maxTokenBytes?: number;
  /** Verified tokens kept, each until its expiry; 0 disables the cache. Default 1000. */
  cacheSize?: number;
  /** How long a verified token without `exp` stays cached, in seconds (only with requireExp false). Default 60. */
  noExpCacheSec?: number;
  /** Clock in epoch ms (tests). Default Date.now. */
  nowMs?: () => number;
}

/** What one verification produced: the claims, or why the token is refused. */
export type VerifyResult = TokenPrincipal | AuthFailure;

/** Verifies bearer tokens against the loaded keys and configured claims. */
export interface TokenVerifier {
  /**
   * Verifies one token. Synchronous except when the kid is unknown and a JWKS
   * URL may be refetched: then a promise, settled after one rate-limited refetch.
   * `connection` (an opaque per-connection key) makes a repeated token on one
   * connection a string comparison instead of a cache lookup.
   */
  verify(token: string, connection?: object): VerifyResult | Promise<VerifyResult>;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BASE64URL_SHA256 = /^[A-Za-z0-9_-]{43}$/;

const MALFORMED = unauthenticated('TOKEN_MALFORMED', 'bearer token is not a JWT: expected three base64url parts separated by dots');
const BAD_HEADER = unauthenticated('TOKEN_MALFORMED', 'bearer token header is not a JSON object with an alg');
const BAD_PAYLOAD = unauthenticated('TOKEN_MALFORMED', 'bearer token payload is not a JSON object');
const ALG_NONE = unauthenticated('TOKEN_ALGORITHM_REFUSED', 'unsigned tokens (alg none) are never accepted');
const CRIT = unauthenticated('TOKEN_MALFORMED', 'bearer token header has crit extensions, which are not supported');
const KID_INVALID = unauthenticated('TOKEN_KID_INVALID', 'token kid must be 1-128 characters from A-Z a-z 0-9 . _ : + = - (no path characters)');
const BAD_SIGNATURE = unauthenticated('TOKEN_SIGNATURE_INVALID', 'token signature is invalid');
const EXP_MISSING = unauthenticated('TOKEN_EXP_MISSING', 'token has no exp claim; tokens must expire');
const IAT_INVALID = unauthenticated('TOKEN_CLAIMS_INVALID', 'token iat must be a number (seconds since the epoch)');
const NO_SUBJECT = unauthenticated('TOKEN_CLAIMS_INVALID', 'token has no sub claim');
const BAD_SCOPE = unauthenticated('TOKEN_CLAIMS_INVALID', 'token scope must be a space-separated string (scope) or an array of strings (scp)');
const BAD_CNF = unauthenticated(
  'TOKEN_CLAIMS_INVALID',
  'token cnf must carry x5t#S256, the base64url SHA-256 of a client certificate (RFC 8705); other confirmation methods are not supported',
);

/**
 * Creates a verifier. Every check that needs no key runs before the
 * signature; claim checks run after it, so nothing about a forged token's
 * claims is ever reported. Accepted tokens are cached, bounded, until their
 * expiry, so a client reusing its token costs one map lookup per call.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const store = options.keys;
  const requireExp = options.requireExp ?? true;
  const skewSec = options.clockSkewSec ?? 60;
  const maxLifetimeSec = options.maxTokenLifetimeSec;
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const noExpCacheSec = options.noExpCacheSec ?? 60;
  const nowMs = options.nowMs ?? Date.now;
  const expectedTyp = options.typ === undefined ? undefined : normaliseTyp(options.typ);
  const issuers = options.issuer === undefined ? undefined : ([] as string[]).concat(options.issuer);
  const audiences = options.audience === undefined ? undefined : ([] as string[]).concat(options.audience);
  // Built once: jsonwebtoken copies its options per call anyway, the clock is set on the copy.
  const baseOptions: jwt.VerifyOptions = {
    clockTolerance: skewSec,
    ...(issuers ? { issuer: issuers as [string, ...string[]] } : {}),
    ...(audiences ? { audience: audiences as [string, ...string[]] } : {}),
  };
  const verifyOptionsByAlg = new Map<string, jwt.VerifyOptions>();
  const issuerInvalid = unauthenticated('TOKEN_ISSUER_INVALID', `token issuer is not accepted; expected ${describe(issuers)}`);
  const audienceInvalid = unauthenticated('TOKEN_AUDIENCE_INVALID', `token audience is not accepted; expected ${describe(audiences)}`);
  const typInvalid = unauthenticated('TOKEN_TYPE_INVALID', `token typ header must be ${options.typ}`);
  const cache = createTokenCache<TokenPrincipal>(options.cacheSize ?? 1000);
  let cacheVersion = store.version;

  function verify(token: string, connection?: object): VerifyResult | Promise<VerifyResult> {
    const nowSec = Math.floor(nowMs() / 1000);
    if (store.version !== cacheVersion) {
      cache.clear();
      cacheVersion = store.version;
    }
    const cached = cache.get(token, nowSec, connection);
    if (cached !== undefined) return cached;
    if (token.length > maxTokenBytes) return unauthenticated('TOKEN_TOO_LARGE', `bearer token is larger than the ${maxTokenBytes}-byte limit`);
    if (!JWT_SHAPE.test(token)) {
      // `header.payload.` is the shape of an unsigned token; say so rather than "malformed".
      return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.$/.test(token) ? ALG_NONE : MALFORMED;
    }
    const firstDot = token.indexOf('.');
    const header = parseJsonObject(token.slice(0, firstDot));
    if (header === undefined || typeof header.alg !== 'string') return BAD_HEADER;
    if (header.alg.toLowerCase() === 'none' || token.endsWith('.')) return ALG_NONE;
    if (header.crit !== undefined) return CRIT;
    if (expectedTyp !== undefined && (typeof header.typ !== 'string' || normaliseTyp(header.typ) !== expectedTyp)) return typInvalid;
    // jku, x5u, jwk and x5c are read by nobody: the key comes from the store or the token is refused.
    const kid = header.kid;
    if (kid !== undefined && (typeof kid !== 'string' || !isValidKid(kid))) return KID_INVALID;
    const key = kid === undefined ? store.only() : store.get(kid);
    if (key !== undefined) return verifyWithKey(token, header.alg, key, nowSec);
    if (kid === undefined) {
      return unauthenticated('TOKEN_KID_UNKNOWN', `token has no kid, and ${store.size} keys are configured; the issuer must set kid`);
    }
    const refetch = store.refetchForUnknownKid();
    if (refetch === undefined) return unknownKid(kid);
    return refetch.then(() => {
      const fetched = store.get(kid);
      return fetched === undefined ? unknownKid(kid) : verifyWithKey(token, header.alg as string, fetched, Math.floor(nowMs() / 1000));
    });
  }

  function verifyWithKey(token: string, alg: string, key: VerificationKey, nowSec: number): VerifyResult {
    if (alg !== key.alg) {
      // The header's alg is the caller's text: shown short and restricted to what algorithm names use.
      const shown = alg.slice(0, 16).replace(/[^A-Za-z0-9+_-]/g, '?');
      return unauthenticated('TOKEN_ALGORITHM_REFUSED', `token alg ${shown} is not the ${key.alg} pinned for key ${key.kid}`);
    }
    let verifyOptions = verifyOptionsByAlg.get(alg);
    if (verifyOptions === undefined) {
      verifyOptions = { ...baseOptions, algorithms: [key.alg] };
      verifyOptionsByAlg.set(alg, verifyOptions);
    }
    let claims: jwt.JwtPayload;
    try {
      const verified = jwt.verify(token, key.key, { ...verifyOptions, clockTimestamp: nowSec });
      if (typeof verified !== 'object' || verified === null) return BAD_PAYLOAD;
      claims = verified;
    } catch (error) {
      return failureFromJwtError(error, issuerInvalid, audienceInvalid);
    }
    return checkClaims(token, claims, nowSec);
  }

  function checkClaims(token: string, claims: jwt.JwtPayload, nowSec: number): VerifyResult {
    const exp = claims.exp;
    if (exp === undefined && requireExp) return EXP_MISSING;
    // jsonwebtoken checks iat's type only with maxAge, so "abc", NaN-like values and iat far in the future reach us.
    const iat: unknown = claims.iat;
    if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) return IAT_INVALID;
    if (iat !== undefined && iat > nowSec + skewSec) {
      return unauthenticated('TOKEN_CLAIMS_INVALID', `token iat ${formatEpochSeconds(iat)} is in the future (clock skew allowed: ${skewSec} s)`);
    }
    if (maxLifetimeSec !== undefined && exp !== undefined) {
      // From now, or from iat when that is earlier: a back-dated iat cannot shorten what is left, a future one is refused above.
      const lifetimeSec = exp - Math.max(iat ?? nowSec, nowSec);
      if (lifetimeSec > maxLifetimeSec) {
        return unauthenticated('TOKEN_LIFETIME_TOO_LONG', `token lifetime is ${lifetimeSec} s; the limit is ${maxLifetimeSec} s`);
      }
    }
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) return NO_SUBJECT;
    const scopes = scopesOf(claims);
    if (scopes === undefined) return BAD_SCOPE;
    let boundThumbprint: string | undefined;
    if (claims.cnf !== undefined) {
      const thumbprint = (claims.cnf as Record<string, unknown> | null)?.['x5t#S256'];
      if (typeof thumbprint !== 'string' || !BASE64URL_SHA256.test(thumbprint)) return BAD_CNF;
      boundThumbprint = thumbprint;
    }
    const clientId = typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : undefined;
    const principal: TokenPrincipal = Object.freeze({
      subject: claims.sub,
      scopes,
      clientId,
      issuer: claims.iss,
      expiresAtSec: exp,
      boundThumbprint,
    });
    cache.set(token, principal, exp !== undefined ? exp + skewSec : nowSec + noExpCacheSec);
    return principal;
  }

  return { verify };
}

/** Scopes from `scope` (RFC 8693/9068 space-separated) or `scp` (array or string); undefined when malformed. */
function scopesOf(claims: jwt.JwtPayload): ReadonlySet<string> | undefined {
  const raw: unknown = claims.scope ?? claims.scp;
  // A fresh set per verified token (then cached with it): a shared empty set could be changed through a cast.
  if (raw === undefined) return new Set();
  if (typeof raw === 'string') return new Set(raw.split(' ').filter((s) => s.length > 0));
  if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return new Set(raw as string[]);
  return undefined;
}

function unknownKid(kid: string): AuthFailure {
  return unauthenticated('TOKEN_KID_UNKNOWN', `token kid ${kid} is not among the configured keys`);
}

function failureFromJwtError(error: unknown, issuerInvalid: AuthFailure, audienceInvalid: AuthFailure): AuthFailure {
  if (error instanceof jwt.TokenExpiredError) {
    return unauthenticated('TOKEN_EXPIRED', `token expired at ${formatEpochSeconds(error.expiredAt.getTime() / 1000)}`);
  }
  if (error instanceof jwt.NotBeforeError) {
    return unauthenticated('TOKEN_NOT_YET_VALID', `token is not valid before ${formatEpochSeconds(error.date.getTime() / 1000)}`);
  }
  const message = error instanceof Error ? error.message : '';
  if (message === 'invalid signature') return BAD_SIGNATURE;
  if (message.startsWith('jwt issuer invalid')) return issuerInvalid;
  if (message.startsWith('jwt audience invalid')) return audienceInvalid;
  if (message.startsWith('invalid exp') || message.startsWith('invalid nbf') || message.startsWith('iat')) {
    return unauthenticated('TOKEN_CLAIMS_INVALID', 'token exp, nbf and iat must be numbers (seconds since the epoch)');
  }
  // jsonwebtoken's other messages are about structure; its wording may change, ours must not.
  return unauthenticated('TOKEN_MALFORMED', 'bearer token could not be decoded as a signed JWT');
}

function parseJsonObject(base64url: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(base64url, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `application/at+JWT` and `at+jwt` are the same type (RFC 7515 section 4.1.9). */
function normaliseTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function describe(values: readonly string[] | undefined): string {
  return values === undefined ? 'any' : values.length === 1 ? values[0]! : `one of ${values.join(', ')}`;
}
