import { Metadata } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { isAuthFailure, type AuthFailure } from '../../interceptors/auth-failure.js';
import { bearerTokenFrom } from '../../interceptors/bearer-token.js';
import type { TokenPrincipal } from '../../interceptors/call-state.js';
import { createKeyStore } from '../../interceptors/key-store.js';
import { createTokenCache } from '../../interceptors/token-cache.js';
import { createTokenVerifier, type TokenVerifierOptions } from '../../interceptors/token-verifier.js';
import { hmacVerificationKey, isValidKid, jwkVerificationKey, keysFromJwks, pemVerificationKey } from '../../interceptors/verification-keys.js';
import { parseTtlSec } from '../../src/cli/commands/token.js';

const NOW_SEC = 1_800_000_000;
const SECRET = randomBytes(32);

function metadataWith(...values: string[]): Metadata {
  const metadata = new Metadata();
  for (const value of values) metadata.add('authorization', value);
  return metadata;
}

function reasonOf(value: unknown): string | undefined {
  return isAuthFailure(value) ? value.reason : undefined;
}

describe('bearerTokenFrom', () => {
  it('reads one Bearer token, scheme in any case, extra spaces tolerated', () => {
    assert.equal(bearerTokenFrom(metadataWith('Bearer abc.def.ghi')), 'abc.def.ghi');
    assert.equal(bearerTokenFrom(metadataWith('bearer abc')), 'abc');
    assert.equal(bearerTokenFrom(metadataWith('BEARER   abc  ')), 'abc');
    assert.equal(bearerTokenFrom(new Metadata()), undefined);
  });

  it('refuses two values, other schemes, an empty token and an oversized one', () => {
    assert.equal(reasonOf(bearerTokenFrom(metadataWith('Bearer a', 'Bearer b'))), 'TOKEN_DUPLICATE');
    assert.equal(reasonOf(bearerTokenFrom(metadataWith('Basic dXNlcjpwYXNz'))), 'TOKEN_SCHEME_INVALID');
    assert.equal(reasonOf(bearerTokenFrom(metadataWith('Bearerabc'))), 'TOKEN_SCHEME_INVALID');
    assert.equal(reasonOf(bearerTokenFrom(metadataWith('Bearer    '))), 'TOKEN_MALFORMED');
    assert.equal(reasonOf(bearerTokenFrom(metadataWith(`Bearer ${'a'.repeat(8193)}`))), 'TOKEN_TOO_LARGE');
    assert.equal(bearerTokenFrom(metadataWith(`Bearer ${'a'.repeat(8192)}`)), 'a'.repeat(8192));
    assert.equal(reasonOf(bearerTokenFrom(metadataWith(`Bearer ${'a'.repeat(100_000)}`))), 'TOKEN_TOO_LARGE');
  });
});

describe('verification keys', () => {
  it('pins algorithms to fitting keys', () => {
    assert.throws(() => hmacVerificationKey('k', 'HS256', randomBytes(31)), /at least 32 bytes/);
    assert.throws(() => hmacVerificationKey('k', 'HS512', randomBytes(32)), /at least 64 bytes/);
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(() => pemVerificationKey('k', 'RS256', weak.publicKey.export({ type: 'spki', format: 'pem' })), /at least 2048 bits/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    assert.throws(() => pemVerificationKey('k', 'ES256', p384.publicKey.export({ type: 'spki', format: 'pem' })), /ES256 needs an EC prime256v1 key/);
    assert.equal(pemVerificationKey('k', 'ES384', p384.publicKey.export({ type: 'spki', format: 'pem' })).alg, 'ES384');
    assert.throws(() => pemVerificationKey('k', 'RS256', 'not a pem'), /not a PEM public key/);
  });

  it('validates kids: no path characters', () => {
    for (const kid of ['gatehouse-dev', 'key.2026-11', 'a:b', 'abc=']) assert.ok(isValidKid(kid), kid);
    for (const kid of ['../x', '/etc/passwd', 'a\\b', '..', '.', '', 'a b', 'x'.repeat(129), 'https://x']) assert.ok(!isValidKid(kid), kid);
    assert.throws(() => hmacVerificationKey('../k', 'HS256', SECRET), /kid/);
  });

  it('reads a JWKS: infers EC algorithms, refuses symmetric keys, reports bad entries without losing good ones', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const { keys, problems } = keysFromJwks(
      {
        keys: [
          { ...ec, kid: 'ec' },
          { ...rsa, kid: 'rsa', alg: 'PS256' },
          { kty: 'oct', k: SECRET.toString('base64url'), kid: 'oct' },
          { ...ec, kid: 'enc', use: 'enc' },
          { ...ec },
          { ...ec, kid: '../../x' },
        ],
      },
      'test.jwks',
    );
    assert.deepEqual(
      keys.map((k) => `${k.kid}:${k.alg}`),
      ['ec:ES256', 'rsa:PS256'],
    );
    assert.equal(problems.length, 4);
    assert.ok(problems.some((p) => /symmetric keys do not belong in a JWKS/.test(p)));
    assert.throws(() => jwkVerificationKey({ ...ec, kid: 'x', alg: 'HS256' }, 's'), /unsupported algorithm HS256/);
    assert.deepEqual(keysFromJwks({}, 'empty').problems, ['empty: not a JWKS (no "keys" array)']);
  });
});

describe('token cache', () => {
  it('holds entries until their expiry and evicts the oldest when full', () => {
    const cache = createTokenCache<number>(2);
    cache.set('a', 1, 100);
    cache.set('b', 2, 200);
    assert.equal(cache.get('a', 99), 1);
    assert.equal(cache.get('a', 100), undefined, 'expired at validUntil');
    cache.set('a', 1, 100);
    cache.set('c', 3, 300);
    assert.equal(cache.get('b', 0), undefined, 'b was the oldest');
    assert.equal(cache.size, 2);
    const off = createTokenCache<number>(0);
    off.set('a', 1, 100);
    assert.equal(off.get('a', 0), undefined);
  });

  it("tries a connection's last entry first, and never one that expired, was evicted, replaced or cleared", () => {
    const cache = createTokenCache<number>(2);
    const connection = {};
    const other = {};
    // Equal tokens that are different string objects, as each call's header is.
    const token = (text: string) => [...text].join('');
    cache.set('a', 1, 100);
    assert.equal(cache.get(token('a'), 0, connection), 1);
    assert.equal(cache.get(token('a'), 0, connection), 1, "from the connection's memo");
    assert.equal(cache.get(token('b'), 0, connection), undefined, 'another token on the same connection is looked up');
    assert.equal(cache.get(token('a'), 100, connection), undefined, 'expired');
    assert.equal(cache.get(token('a'), 0, other), undefined, 'the expired entry was dropped for everyone');
    cache.set('a', 1, 100);
    assert.equal(cache.get('a', 0, connection), 1);
    cache.set('a', 7, 100);
    assert.equal(cache.get('a', 0, connection), 7, 'a replaced entry is not served from the memo');
    cache.clear();
    assert.equal(cache.get('a', 0, connection), undefined, 'cleared (the key set changed)');
    cache.set('a', 1, 100);
    assert.equal(cache.get('a', 0, connection), 1);
    cache.set('b', 2, 100);
    cache.set('c', 3, 100);
    assert.equal(cache.get('a', 0, connection), undefined, 'evicted as the oldest');
  });
});

describe('token verifier', () => {
  const hs = hmacVerificationKey('hs', 'HS256', SECRET);
  const base = (overrides: Partial<TokenVerifierOptions> = {}) =>
    createTokenVerifier({
      keys: createKeyStore({ keys: [hs] }),
      issuer: 'iss',
      audience: 'aud',
      nowMs: () => NOW_SEC * 1000,
      ...overrides,
    });
  const sign = (claims: Record<string, unknown> = {}, options: jwt.SignOptions = {}) =>
    jwt.sign({ iss: 'iss', aud: 'aud', sub: 'alice', iat: NOW_SEC, exp: NOW_SEC + 60, ...claims }, SECRET, {
      algorithm: 'HS256',
      keyid: 'hs',
      ...options,
    });
  const signWithoutKid = () => jwt.sign({ iss: 'iss', aud: 'aud', sub: 'alice', iat: NOW_SEC, exp: NOW_SEC + 60 }, SECRET, { algorithm: 'HS256' });
  const verify = (verifier: ReturnType<typeof createTokenVerifier>, token: string) => {
    const result = verifier.verify(token);
    assert.ok(!(result instanceof Promise));
    return result;
  };
  const failure = (verifier: ReturnType<typeof createTokenVerifier>, token: string) => {
    const result = verify(verifier, token);
    assert.ok(isAuthFailure(result), `expected a refusal, got ${JSON.stringify(result)}`);
    return result as AuthFailure;
  };

  it('returns typed claims: subject, scopes from scope or scp, client id, binding', () => {
    const verifier = base();
    const principal = verify(verifier, sign({ scope: 'a b  c', client_id: 'cli', cnf: { 'x5t#S256': 'A'.repeat(43) } })) as TokenPrincipal;
    assert.equal(principal.subject, 'alice');
    assert.deepEqual([...principal.scopes], ['a', 'b', 'c']);
    assert.equal(principal.clientId, 'cli');
    assert.equal(principal.boundThumbprint, 'A'.repeat(43));
    assert.equal(principal.expiresAtSec, NOW_SEC + 60);
    assert.deepEqual([...(verify(verifier, sign({ scp: ['x', 'y'], azp: 'web' })) as TokenPrincipal).scopes], ['x', 'y']);
    assert.equal(failure(verifier, sign({ scope: 42 })).reason, 'TOKEN_CLAIMS_INVALID');
  });

  it('serves a repeated token from the cache until it expires, and empties the cache when keys change', () => {
    let nowMs = NOW_SEC * 1000;
    const verifier = base({ nowMs: () => nowMs, clockSkewSec: 0 });
    const token = sign();
    const first = verify(verifier, token);
    assert.equal(verify(verifier, token), first, 'the same frozen principal, from the cache');
    nowMs += 61_000;
    assert.equal(failure(verifier, token).reason, 'TOKEN_EXPIRED');

    const listeners: (() => void)[] = [];
    const source = {
      url: 'u',
      start: async () => true,
      keys: () => [],
      refetchForUnknownKid: () => undefined,
      onChange: (l: () => void) => {
        listeners.push(l);
      },
      close: () => {},
    };
    const rotating = base({ keys: createKeyStore({ keys: [hs], jwks: [source] }) });
    const cached = verify(rotating, sign());
    assert.ok(!isAuthFailure(cached), `expected a principal, got ${JSON.stringify(cached)}`);
    assert.equal(verify(rotating, sign()), cached);
    for (const l of listeners) l();
    const fresh = verify(rotating, sign());
    // A refusal is also "not the cached object": the token must still verify, to a new but equal principal.
    assert.ok(!isAuthFailure(fresh), `the key set change broke verification: ${JSON.stringify(fresh)}`);
    assert.notEqual(fresh, cached, 'a key set change empties the cache');
    assert.deepEqual(fresh, cached);
  });

  it('applies the clock skew to exp and nbf', () => {
    const verifier = base({ clockSkewSec: 60 });
    assert.ok(!isAuthFailure(verify(verifier, sign({ iat: NOW_SEC - 120, exp: NOW_SEC - 30 }))));
    assert.equal(
      failure(verifier, sign({ iat: NOW_SEC - 200, exp: NOW_SEC - 61 })).message,
      `token expired at ${new Date((NOW_SEC - 61) * 1000).toISOString().replace('.000Z', 'Z')}`,
    );
    assert.ok(!isAuthFailure(verify(verifier, sign({ nbf: NOW_SEC + 30 }))));
    assert.equal(failure(verifier, sign({ nbf: NOW_SEC + 90 })).reason, 'TOKEN_NOT_YET_VALID');
  });

  it('requires exp unless configured otherwise; enforces the maximum lifetime and typ', () => {
    const noExp = jwt.sign({ iss: 'iss', aud: 'aud', sub: 'alice' }, SECRET, { algorithm: 'HS256', keyid: 'hs' });
    assert.equal(failure(base(), noExp).reason, 'TOKEN_EXP_MISSING');
    assert.ok(!isAuthFailure(verify(base({ requireExp: false }), noExp)));
    assert.equal(
      failure(base({ maxTokenLifetimeSec: 3600 }), sign({ exp: NOW_SEC + 7200 })).message,
      'token lifetime is 7200 s; the limit is 3600 s',
    );
    assert.equal(failure(base({ typ: 'at+jwt' }), sign()).reason, 'TOKEN_TYPE_INVALID');
    assert.ok(!isAuthFailure(verify(base({ typ: 'at+jwt' }), sign({}, { header: { alg: 'HS256', typ: 'application/AT+JWT' } }))));
  });

  it('caps the lifetime from now: a future or non-numeric iat cannot stretch it (issue 12, item 3)', () => {
    const YEAR = 365 * 24 * 3600;
    const capped = base({ maxTokenLifetimeSec: 3600 });
    // exp +10 years with iat +1 year, and iat = exp - 600: both used to pass as "lifetime 9 years" or "600 s".
    assert.equal(failure(capped, sign({ iat: NOW_SEC + YEAR, exp: NOW_SEC + 10 * YEAR })).reason, 'TOKEN_CLAIMS_INVALID');
    assert.equal(
      failure(base(), sign({ iat: NOW_SEC + YEAR, exp: NOW_SEC + 10 * YEAR })).message,
      `token iat ${new Date((NOW_SEC + YEAR) * 1000).toISOString().replace('.000Z', 'Z')} is in the future (clock skew allowed: 60 s)`,
    );
    assert.equal(failure(capped, sign({ iat: NOW_SEC + 10 * YEAR - 600, exp: NOW_SEC + 10 * YEAR })).reason, 'TOKEN_CLAIMS_INVALID');
    assert.equal(
      failure(capped, sign({ iat: NOW_SEC - 600, exp: NOW_SEC + 10 * YEAR })).message,
      `token lifetime is ${10 * YEAR} s; the limit is 3600 s`,
    );
    // jsonwebtoken's sign refuses such iat values, so these tokens are put together and signed by hand.
    const signRaw = (claims: Record<string, unknown>) => {
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const input = `${part({ alg: 'HS256', kid: 'hs' })}.${part({ iss: 'iss', aud: 'aud', sub: 'alice', exp: NOW_SEC + 60, ...claims })}`;
      return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
    };
    assert.ok(!isAuthFailure(verify(base(), signRaw({ iat: NOW_SEC }))), 'the hand-made token is well signed');
    for (const iat of ['abc', '12', null, { n: 1 }, [1]]) {
      assert.equal(failure(base(), signRaw({ iat })).message, 'token iat must be a number (seconds since the epoch)', `iat ${JSON.stringify(iat)}`);
    }
    // Within the skew, a slightly future iat is a clock difference, not an attack; lifetime then counts from iat.
    assert.ok(!isAuthFailure(verify(capped, sign({ iat: NOW_SEC + 30, exp: NOW_SEC + 3630 }))));
    assert.equal(failure(capped, sign({ iat: NOW_SEC + 30, exp: NOW_SEC + 3631 + 30 })).reason, 'TOKEN_LIFETIME_TOO_LONG');
    assert.equal(failure(base({ clockSkewSec: 0 }), sign({ iat: NOW_SEC + 1 })).reason, 'TOKEN_CLAIMS_INVALID');
  });

  it('refuses none, crit, unknown and invalid kids, and algorithms other than the pinned one', () => {
    const verifier = base();
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const payload = part({ iss: 'iss', aud: 'aud', sub: 'alice', exp: NOW_SEC + 60 });
    assert.equal(failure(verifier, `${part({ alg: 'none' })}.${payload}.`).reason, 'TOKEN_ALGORITHM_REFUSED');
    assert.equal(failure(verifier, `${part({ alg: 'HS256', kid: 'hs' })}.${payload}.`).reason, 'TOKEN_ALGORITHM_REFUSED');
    assert.equal(failure(verifier, sign({}, { header: { alg: 'HS256', crit: ['exp'] } as jwt.JwtHeader })).reason, 'TOKEN_MALFORMED');
    assert.equal(failure(verifier, sign({}, { keyid: 'other' })).message, 'token kid other is not among the configured keys');
    assert.equal(failure(verifier, sign({}, { keyid: '../hs' })).reason, 'TOKEN_KID_INVALID');
    assert.equal(
      failure(verifier, jwt.sign({ sub: 'a' }, SECRET, { algorithm: 'HS384', keyid: 'hs' })).message,
      'token alg HS384 is not the HS256 pinned for key hs',
    );
    assert.equal(failure(verifier, 'a.b').reason, 'TOKEN_MALFORMED');
    assert.equal(failure(verifier, 'a.b.c.d').reason, 'TOKEN_MALFORMED');
  });

  it('uses the only key for a token without kid, and refuses kid-less tokens when several keys exist', () => {
    assert.ok(!isAuthFailure(verify(base(), signWithoutKid())));
    const two = base({ keys: createKeyStore({ keys: [hs, hmacVerificationKey('hs2', 'HS256', randomBytes(32))] }) });
    assert.match(failure(two, signWithoutKid()).message, /no kid, and 2 keys are configured/);
  });

  it('never echoes the token in a message', () => {
    const verifier = base();
    const token = sign({ iss: 'other' });
    for (const candidate of [token, token.slice(0, -3) + 'abc', `${token}x`]) {
      const result = verify(verifier, candidate);
      assert.ok(isAuthFailure(result));
      assert.ok(!result.message.includes(token.split('.')[2]!.slice(0, 10)));
      assert.ok(!result.message.includes(token.split('.')[1]!.slice(0, 10)));
    }
  });

  it('awaits one JWKS refetch for an unknown kid, then verifies', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let published: ReturnType<typeof jwkVerificationKey>[] = [];
    const listeners: (() => void)[] = [];
    let refetches = 0;
    const source = {
      url: 'http://jwks.test/',
      start: async () => true,
      keys: () => published,
      refetchForUnknownKid: () => {
        refetches++;
        published = [jwkVerificationKey({ ...ec.publicKey.export({ format: 'jwk' }), kid: 'late', alg: 'ES256' }, 'jwks')];
        for (const l of listeners) l();
        return Promise.resolve();
      },
      onChange: (l: () => void) => {
        listeners.push(l);
      },
      close: () => {},
    };
    const verifier = base({ keys: createKeyStore({ keys: [hs], jwks: [source] }) });
    const token = jwt.sign({ iss: 'iss', aud: 'aud', sub: 'bob', exp: NOW_SEC + 60 }, ec.privateKey, { algorithm: 'ES256', keyid: 'late' });
    const pending = verifier.verify(token);
    assert.ok(pending instanceof Promise);
    assert.equal(((await pending) as TokenPrincipal).subject, 'bob');
    assert.equal(refetches, 1);
  });
});

describe('token mint CLI', () => {
  it('parses --ttl', () => {
    assert.equal(parseTtlSec('90s'), 90);
    assert.equal(parseTtlSec('30m'), 1800);
    assert.equal(parseTtlSec('12h'), 43_200);
    assert.equal(parseTtlSec('7d'), 604_800);
    assert.equal(parseTtlSec('600'), 600);
    assert.throws(() => parseTtlSec('0'), /--ttl 0 is not a duration; use e\.g\. 90s, 30m, 12h or 7d/);
    assert.throws(() => parseTtlSec('1y'), /--ttl 1y is not a duration; use e\.g\. 90s, 30m, 12h or 7d/);
  });
});
