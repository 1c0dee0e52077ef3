import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { certificateThumbprint } from '../../src/auth/mint-token.js';
import { callClientStream, callUnary } from '../../src/client/grpc-client.js';
import { loadServiceDefinition } from '../../src/proto/load.js';
import { createCheeseService } from '../../src/services/cheese/cheese-service.js';
import { openSqliteOrderStore } from '../../src/services/cheese/sqlite-order-store.js';
import type { HostedService } from '../../src/services/hosted-service.js';
import { assertRejects } from '../helpers/assert-status.js';
import { devTokenFor } from '../helpers/dev-token.js';
import { checkHealth } from '../helpers/health-client.js';
import { curlGrpcCall } from '../helpers/curl-grpc.js';
import { listServicesByReflection } from '../helpers/reflection.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';
const TTS = 'gatehouse.tts.v1.TextToSpeech';
const ALICE = 'spiffe://gatehouse.dev/client/alice';
const BOB = 'spiffe://gatehouse.dev/client/bob';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'gatehouse-test';

/** The policy under test: CheeseService only (TextToSpeech is hosted but not named, so denied). */
const POLICY = `
defaults:
  identities: ["spiffe://gatehouse.dev/client/*"]
services:
  ${CHEESE}:
    scopes: [cheese.read]
    methods:
      Order: { scopes: [cheese.order], identities: ["${ALICE}"] }
      PlaceOrders: { scopes: [cheese.order], requireBoundToken: true }
      GetOrder: { requireSubjectMatchesIdentity: true }
`;

interface SigningKey {
  kid: string;
  alg: jwt.Algorithm;
  key: KeyObject | Buffer;
}

describe('security: bearer tokens, certificate identity and policy over mTLS', () => {
  let gw: TestGateway;
  let dir: string;
  let jwksServer: Server;
  let jwksFetches = 0;
  const jwksDocument: { keys: object[] } = { keys: [] };
  const hs: SigningKey = { kid: 'hs-test', alg: 'HS256', key: randomBytes(32) };
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecFile = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecUrl = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecUrlLater = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rs: SigningKey = { kid: 'rs-test', alg: 'RS256', key: rsa.privateKey };
  const es: SigningKey = { kid: 'es-test', alg: 'ES256', key: ec.privateKey };
  const fromFile: SigningKey = { kid: 'jwks-file-1', alg: 'ES256', key: ecFile.privateKey };
  const fromUrl: SigningKey = { kid: 'jwks-url-1', alg: 'ES256', key: ecUrl.privateKey };
  const fromUrlLater: SigningKey = { kid: 'jwks-url-2', alg: 'ES256', key: ecUrlLater.privateKey };
  let alice: grpc.Client;
  let bob: grpc.Client;
  let tts: grpc.Client;

  const nowSec = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: ALICE,
    iat: nowSec(),
    exp: nowSec() + 600,
    scope: 'cheese.read cheese.order',
    ...extra,
  });
  const sign = (key: SigningKey, extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    jwt.sign(claims(extra), key.key, { algorithm: key.alg, keyid: key.kid, header: { alg: key.alg, ...header } as jwt.JwtHeader });
  const bearer = (...values: string[]) => {
    const metadata = new grpc.Metadata();
    for (const value of values) metadata.add('authorization', value);
    return metadata;
  };
  const listOrders = (client: grpc.Client, token: string | undefined) =>
    callUnary(
      client,
      'listOrders',
      { pageSize: 1 },
      { metadata: token === undefined ? new grpc.Metadata() : bearer(`Bearer ${token}`), deadline: 5000 },
    );
  const jwk = (pair: { publicKey: KeyObject }, kid: string) => ({ ...pair.publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-security-'));
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk(ecFile, fromFile.kid)] }));
    jwksDocument.keys = [jwk(ecUrl, fromUrl.kid)];
    jwksServer = createServer((_request, response) => {
      jwksFetches += 1;
      response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(jwksDocument));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks.json`;
    const ttsService: HostedService = {
      name: TTS,
      definition: loadServiceDefinition(TTS),
      implementation: { ListVoices: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { voices: [] }) },
      start: async () => {},
      stop: async () => {},
    };
    gw = await startGateway({
      devTokens: false,
      services: [
        createCheeseService({
          openStore: async () => openSqliteOrderStore({ path: join(dir, 'orders.db'), stock: { BRIE: 100 } }),
          describeStore: 'SQLite',
        }),
        ttsService,
      ],
      overrides: {
        'auth.issuer': [ISSUER, 'gatehouse-dev'],
        'auth.audience': AUDIENCE,
        'auth.hmacKeys': [{ kid: hs.kid, secret: (hs.key as Buffer).toString('base64url') }],
        'auth.publicKeys': [
          { kid: rs.kid, alg: 'RS256', pem: rsa.publicKey.export({ type: 'spki', format: 'pem' }) },
          { kid: es.kid, alg: 'ES256', pem: ec.publicKey.export({ type: 'spki', format: 'pem' }) },
        ],
        'auth.jwksFiles': [join(dir, 'jwks.json')],
        'auth.jwksUrls': [{ url: jwksUrl, unknownKidRefetchIntervalSec: 0 }],
        'policy.file': join(dir, 'policy.yaml'),
      },
    });
    alice = gw.client(CHEESE, 'alice');
    bob = gw.client(CHEESE, 'bob');
    tts = gw.client(TTS, 'alice');
  });

  after(async () => {
    await gw?.close();
    jwksServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('valid credentials pass', () => {
    it('HS256, RS256 and ES256 tokens from configured keys', async () => {
      for (const key of [hs, rs, es]) await listOrders(alice, sign(key));
    });

    it('a token whose key comes from a JWKS file', async () => {
      await listOrders(alice, sign(fromFile));
    });

    it('a token whose key comes from a JWKS URL, and a key published there later (unknown kid refetch)', async () => {
      await listOrders(alice, sign(fromUrl));
      const before = jwksFetches;
      jwksDocument.keys = [jwk(ecUrl, fromUrl.kid), jwk(ecUrlLater, fromUrlLater.kid)];
      await listOrders(alice, sign(fromUrlLater));
      assert.equal(jwksFetches, before + 1, 'the unknown kid made exactly one refetch');
    });

    it('a development token from the development key (what gatehouse token mint signs)', async () => {
      await listOrders(alice, devTokenFor(gw.certs, 'alice', {}, gw.config));
    });

    it('the Bearer scheme in any case, and a token just past exp but within the clock skew', async () => {
      const token = sign(hs);
      for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
        await callUnary(alice, 'listOrders', { pageSize: 1 }, { metadata: bearer(`${scheme} ${token}`) });
      }
      await listOrders(alice, sign(hs, { iat: nowSec() - 600, exp: nowSec() - 20 }));
    });

    it('the right certificate identity, scope, binding and sub', async () => {
      await callUnary(alice, 'order', { type: 'BRIE', age: 3, idempotencyKey: 'sec-1' }, { metadata: bearer(`Bearer ${sign(hs)}`) });
      const bound = sign(hs, { cnf: { 'x5t#S256': certificateThumbprint(readFileSync(gw.certs.clients.alice.cert)) } });
      await callClientStream(alice, 'placeOrders', [{ type: 'BRIE', age: 3, idempotencyKey: 'sec-2' }], { metadata: bearer(`Bearer ${bound}`) });
      await listOrders(alice, bound);
      // Auth passed when the service itself answers: NOT_FOUND for an order that does not exist.
      await assertRejects(callUnary(alice, 'getOrder', { orderId: 'none' }, { metadata: bearer(`Bearer ${sign(hs)}`) }), 'NOT_FOUND');
      await listOrders(bob, sign(hs, { sub: BOB, scope: 'cheese.read' }));
    });

    it('health and reflection without any token', async () => {
      assert.equal(await checkHealth(gw.target, gw.credentials('alice')), 'SERVING');
      assert.ok((await listServicesByReflection(gw.target, gw.credentials('alice'))).includes(CHEESE));
    });
  });

  describe('refusals: code, reason and a useful message', () => {
    const refused = async (
      call: Promise<unknown>,
      code: 'UNAUTHENTICATED' | 'PERMISSION_DENIED',
      reason: string,
      message: RegExp,
      secret?: string,
    ) => {
      const { error, details } = await assertRejects(call, code, message);
      assert.equal(details?.errorInfo?.reason, reason);
      if (secret)
        assert.ok(!error.details.includes(secret.slice(-20)) && !JSON.stringify(details).includes(secret.slice(-20)), 'the reply echoes the token');
    };

    it('no token', async () => {
      await refused(listOrders(alice, undefined), 'UNAUTHENTICATED', 'TOKEN_MISSING', /ListOrders requires a bearer token/);
    });

    it('a malformed token', async () => {
      await refused(listOrders(alice, 'not-a-jwt'), 'UNAUTHENTICATED', 'TOKEN_MALFORMED', /not a JWT/);
      await refused(listOrders(alice, 'e30.e30.e30'), 'UNAUTHENTICATED', 'TOKEN_MALFORMED', /header is not a JSON object with an alg/);
    });

    it('a bad signature', async () => {
      const token = sign(hs);
      const [h, p, s] = token.split('.');
      const forged = `${h}.${p}.${s!.slice(0, 10)}${s![10] === 'A' ? 'B' : 'A'}${s!.slice(11)}`;
      await refused(listOrders(alice, forged), 'UNAUTHENTICATED', 'TOKEN_SIGNATURE_INVALID', /signature is invalid/, forged);
      // Claims changed after signing: same refusal, and nothing about the claims is reported.
      const tampered = `${h}.${Buffer.from(JSON.stringify(claims({ scope: 'admin' }))).toString('base64url')}.${s}`;
      await refused(listOrders(alice, tampered), 'UNAUTHENTICATED', 'TOKEN_SIGNATURE_INVALID', /signature is invalid/);
    });

    it('alg none', async () => {
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${part({ alg: 'none', typ: 'JWT', kid: hs.kid })}.${part(claims())}.`;
      await refused(listOrders(alice, unsigned), 'UNAUTHENTICATED', 'TOKEN_ALGORITHM_REFUSED', /alg none/);
      const noneWithSignature = `${part({ alg: 'None', kid: hs.kid })}.${part(claims())}.c2ln`;
      await refused(listOrders(alice, noneWithSignature), 'UNAUTHENTICATED', 'TOKEN_ALGORITHM_REFUSED', /alg none/);
    });

    it('RS256 -> HS256 confusion: an HMAC made with the RSA public key as the secret', async () => {
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const input = `${part({ alg: 'HS256', typ: 'JWT', kid: rs.kid })}.${part(claims())}`;
      const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const token = `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
      await refused(listOrders(alice, token), 'UNAUTHENTICATED', 'TOKEN_ALGORITHM_REFUSED', /alg HS256 is not the RS256 pinned for key rs-test/);
    });

    it('expired', async () => {
      const exp = nowSec() - 3600;
      const expected = new Date(exp * 1000).toISOString().replace('.000Z', 'Z');
      await refused(
        listOrders(alice, sign(hs, { iat: exp - 600, exp })),
        'UNAUTHENTICATED',
        'TOKEN_EXPIRED',
        new RegExp(`^token expired at ${expected}$`),
      );
    });

    it('not yet valid', async () => {
      await refused(
        listOrders(alice, sign(hs, { nbf: nowSec() + 3600 })),
        'UNAUTHENTICATED',
        'TOKEN_NOT_YET_VALID',
        /not valid before \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/,
      );
    });

    it('wrong iss and wrong aud', async () => {
      await refused(
        listOrders(alice, sign(hs, { iss: 'https://evil.test' })),
        'UNAUTHENTICATED',
        'TOKEN_ISSUER_INVALID',
        /issuer is not accepted; expected one of https:\/\/issuer.test, gatehouse-dev/,
      );
      await refused(
        listOrders(alice, sign(hs, { aud: 'someone-else' })),
        'UNAUTHENTICATED',
        'TOKEN_AUDIENCE_INVALID',
        /audience is not accepted; expected gatehouse-test/,
      );
    });

    it('an unknown kid (after one JWKS refetch) and a kid with path characters (no lookup at all)', async () => {
      const stranger: SigningKey = { kid: 'nobody', alg: 'HS256', key: randomBytes(32) };
      const fetches = jwksFetches;
      await refused(listOrders(alice, sign(stranger)), 'UNAUTHENTICATED', 'TOKEN_KID_UNKNOWN', /kid nobody is not among the configured keys/);
      assert.equal(jwksFetches, fetches + 1);
      for (const kid of ['../../etc/passwd', '/dev/null', 'a\\b', 'https://evil.test/key']) {
        await refused(listOrders(alice, sign({ ...hs, kid })), 'UNAUTHENTICATED', 'TOKEN_KID_INVALID', /kid must be .* \(no path characters\)/);
      }
      assert.equal(jwksFetches, fetches + 1, 'an invalid kid never reaches the key set');
    });

    it('jku and x5u in the header are never followed', async () => {
      const fetches = jwksFetches;
      const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const token = jwt.sign(claims(), attacker.privateKey, {
        algorithm: 'ES256',
        keyid: 'attacker',
        header: { alg: 'ES256', jku: 'http://127.0.0.1:1/jwks.json', x5u: 'http://127.0.0.1:1/cert.pem' },
      });
      await refused(listOrders(alice, token), 'UNAUTHENTICATED', 'TOKEN_KID_UNKNOWN', /kid attacker/);
      assert.equal(jwksFetches, fetches + 1, 'only the configured JWKS URL was fetched');
    });

    it('an oversized token (over 8 KiB)', async () => {
      const token = sign(hs, { pad: 'x'.repeat(9000) });
      await refused(listOrders(alice, token), 'UNAUTHENTICATED', 'TOKEN_TOO_LARGE', /larger than the 8192-byte limit/);
    });

    it("two authorization headers (sent raw: Node's own client refuses to)", async () => {
      const token = sign(hs);
      const twice = await curlGrpcCall(gw, `/${CHEESE}/ListOrders`, [`authorization: Bearer ${token}`, `authorization: Bearer ${token}`]);
      assert.deepEqual(twice, {
        code: grpc.status.UNAUTHENTICATED,
        message: 'more than one authorization header; send exactly one "authorization: Bearer <token>"',
        reason: 'TOKEN_DUPLICATE',
      });
      // The same request with one header passes, so the refusal is about the duplicate.
      assert.equal((await curlGrpcCall(gw, `/${CHEESE}/ListOrders`, [`authorization: Bearer ${token}`], Buffer.alloc(5))).code, grpc.status.OK);
    });

    it('a scheme other than Bearer', async () => {
      await refused(
        callUnary(alice, 'listOrders', {}, { metadata: bearer(`Basic ${Buffer.from('a:b').toString('base64')}`) }),
        'UNAUTHENTICATED',
        'TOKEN_SCHEME_INVALID',
        /Bearer scheme/,
      );
    });

    it('a missing scope', async () => {
      await refused(
        callUnary(
          alice,
          'order',
          { type: 'BRIE', age: 3, idempotencyKey: 'sec-3' },
          { metadata: bearer(`Bearer ${sign(hs, { scope: 'cheese.read' })}`) },
        ),
        'PERMISSION_DENIED',
        'SCOPE_MISSING',
        /^scope cheese.order required for \/cheesefarm.v1.CheeseService\/Order$/,
      );
    });

    it('a certificate identity the method does not allow', async () => {
      await refused(
        callUnary(bob, 'order', { type: 'BRIE', age: 3, idempotencyKey: 'sec-4' }, { metadata: bearer(`Bearer ${sign(hs, { sub: BOB })}`) }),
        'PERMISSION_DENIED',
        'IDENTITY_NOT_ALLOWED',
        new RegExp(`identity ${BOB} is not allowed to call /${CHEESE}/Order`),
      );
    });

    it("a bound token presented with another client's certificate", async () => {
      const aliceBound = sign(hs, { cnf: { 'x5t#S256': certificateThumbprint(readFileSync(gw.certs.clients.alice.cert)) } });
      await refused(listOrders(bob, aliceBound), 'UNAUTHENTICATED', 'TOKEN_BINDING_MISMATCH', /bound to a different client certificate/);
      await refused(
        callClientStream(bob, 'placeOrders', [{ type: 'BRIE', age: 3, idempotencyKey: 'sec-5' }], { metadata: bearer(`Bearer ${aliceBound}`) }),
        'UNAUTHENTICATED',
        'TOKEN_BINDING_MISMATCH',
        /bound to a different client certificate/,
      );
      await refused(
        callClientStream(alice, 'placeOrders', [{ type: 'BRIE', age: 3, idempotencyKey: 'sec-6' }], { metadata: bearer(`Bearer ${sign(hs)}`) }),
        'UNAUTHENTICATED',
        'TOKEN_BINDING_REQUIRED',
        /PlaceOrders requires a certificate-bound token/,
      );
    });

    it('a sub that does not match the certificate identity, where required', async () => {
      await refused(
        callUnary(alice, 'getOrder', { orderId: 'none' }, { metadata: bearer(`Bearer ${sign(hs, { sub: BOB })}`) }),
        'UNAUTHENTICATED',
        'TOKEN_SUBJECT_MISMATCH',
        new RegExp(`sub does not match the client certificate identity ${ALICE}`),
      );
    });

    it('a method the policy does not name', async () => {
      await refused(
        callUnary(tts, 'listVoices', {}, { metadata: bearer(`Bearer ${sign(hs)}`) }),
        'PERMISSION_DENIED',
        'METHOD_NOT_IN_POLICY',
        /ListVoices is not in the access policy/,
      );
    });
  });

  it('counts refusals by reason, and never writes a token to the log', async () => {
    const text = await gw.gateway.registry.getSingleMetricAsString('gatehouse_auth_failures_total');
    const count = (reason: string) => Number(new RegExp(`reason="${reason}"} (\\d+)`).exec(text)?.[1]);
    assert.equal(count('TOKEN_ALGORITHM_REFUSED'), 3);
    assert.equal(count('TOKEN_KID_INVALID'), 4);
    assert.equal(count('TOKEN_BINDING_MISMATCH'), 2);
    assert.equal(count('TOKEN_DUPLICATE'), 1);
    assert.equal(count('METHOD_NOT_IN_POLICY'), 1);
    const logs = JSON.stringify(gw.logs);
    assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.eyJ/.test(logs), 'a JWT appears in the log');
    assert.ok(!logs.includes((hs.key as Buffer).toString('base64url')), 'a secret appears in the log');
  });
});
