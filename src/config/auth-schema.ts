import { z } from 'zod';
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, KID_PATTERN } from '../../interceptors/verification-keys.js';

const kid = z
  .string()
  .regex(KID_PATTERN, `kid must match ${KID_PATTERN.source}`)
  .refine((k) => k !== '.' && k !== '..', 'kid must not be . or ..');
const oneOrMore = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** A shared HMAC secret. Give `secretFile` (preferred) or `secret`, not both. */
const HmacKeySchema = z
  .strictObject({
    /** Key id tokens name in their header. */
    kid,
    /** The one algorithm this key verifies. Default HS256. */
    alg: z.enum(HMAC_ALGORITHMS).default('HS256'),
    /** The secret itself (prefer secretFile: config files get copied around). */
    secret: z.string().min(1).optional(),
    /** File holding the secret. */
    secretFile: z.string().min(1).optional(),
    /** How the secret text is encoded. Default base64url (what `token mint`'s development key uses). */
    encoding: z.enum(['utf8', 'base64', 'base64url', 'hex']).default('base64url'),
  })
  .refine((key) => (key.secret === undefined) !== (key.secretFile === undefined), 'give exactly one of secret and secretFile');

/** An RSA or EC public key (or certificate) in PEM. Give `pemFile` or `pem`. */
const PublicKeySchema = z
  .strictObject({
    kid,
    /** The one algorithm this key verifies (RS256, PS256, ES256, ...). */
    alg: z.enum(ASYMMETRIC_ALGORITHMS),
    /** PEM text. */
    pem: z.string().min(1).optional(),
    /** PEM file. */
    pemFile: z.string().min(1).optional(),
  })
  .refine((key) => (key.pem === undefined) !== (key.pemFile === undefined), 'give exactly one of pem and pemFile');

/** A JWKS fetched over HTTP(S). */
const JwksUrlSchema = z.strictObject({
  /** The JWKS URL. Token headers (`jku`, `x5u`) are never followed; only this is fetched. */
  url: z.url({ protocol: /^https?$/ }),
  /** Background refresh period, in seconds. Default 300. */
  refreshIntervalSec: z.number().int().min(1).default(300),
  /** Least time between refetches triggered by tokens with an unknown kid, in seconds. Default 30. */
  unknownKidRefetchIntervalSec: z.number().int().min(0).default(30),
  /** Time limit per fetch, in ms. Default 5000. */
  timeoutMs: z.number().int().min(100).default(5000),
});

/** The development HMAC key `gatehouse token mint` signs with; made on first start when missing. */
const DevSigningKeySchema = z
  .strictObject({
    /** Load (and make when missing) the development key. Turn off in production. Default on. */
    enabled: z.boolean().default(true),
    /** Where the key lives, next to the development certificates (git-ignored). Default certs/dev/token-signing.key. */
    file: z.string().min(1).default('certs/dev/token-signing.key'),
    /** Its kid. Default gatehouse-dev. */
    kid: kid.default('gatehouse-dev'),
  })
  .prefault({});

/** Bearer token authentication and client-certificate identity. */
export const AuthSchema = z
  .strictObject({
    /** Accepted `iss` value(s). Default gatehouse-dev (what `token mint` writes). */
    issuer: oneOrMore.default('gatehouse-dev'),
    /** Accepted `aud` value(s); the token must name one. Default gatehouse. */
    audience: oneOrMore.default('gatehouse'),
    /** Refuse tokens without `exp`. Default true. */
    requireExp: z.boolean().default(true),
    /** Tolerance for exp/nbf and clock differences, in seconds. Default 60. */
    clockSkewSec: z.number().int().min(0).max(3600).default(60),
    /** Longest accepted token lifetime (exp - iat), in seconds. Default unlimited. */
    maxTokenLifetimeSec: z.number().int().min(1).optional(),
    /** Required `typ` header, e.g. `at+jwt` (RFC 9068). Default not checked. */
    typ: z.string().min(1).optional(),
    /** Verified tokens cached until their expiry; 0 turns the cache off. Default 1000. */
    tokenCacheSize: z.number().int().min(0).default(1000),
    /** Shared HMAC secrets. */
    hmacKeys: z.array(HmacKeySchema).default([]),
    /** PEM public keys. */
    publicKeys: z.array(PublicKeySchema).default([]),
    /** JWKS files, read at start. */
    jwksFiles: z.array(z.string().min(1)).default([]),
    /** JWKS URLs, fetched at start, refreshed, refetched (rate-limited) for unknown kids. */
    jwksUrls: z.array(JwksUrlSchema).default([]),
    /** The development signing key. */
    devSigningKey: DevSigningKeySchema,
    /**
     * Certificate identities allowed at all, before any per-method policy (glob:
     * `*` within a path segment, `**` anything). Default any identity the client CA vouches for.
     */
    allowedIdentities: z.array(z.string().min(1)).min(1).default(['**']),
  })
  .prefault({});

/** The validated `auth` section. */
export type AuthConfig = z.infer<typeof AuthSchema>;
