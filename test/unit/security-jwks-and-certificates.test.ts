import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { makeTemporaryDevCertificates, type DevCertificateSet } from '../../certs/dev-certificates.js';
import { createJwksSource } from '../../interceptors/jwks-source.js';
import { createLogger } from '../../src/logging/logger.js';
import { checkCaBundle, checkIdentity } from '../../src/tls/certificate-files.js';
import { createReloadingCredentials } from '../../src/tls/reloading-credentials.js';

const jwk = (kid: string) => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid, alg: 'ES256' });

describe('JWKS source', () => {
  function fakeIssuer(documents: unknown[]) {
    const calls: string[] = [];
    let index = 0;
    const fetcher = (async (url: URL) => {
      calls.push(String(url));
      const document = documents[Math.min(index++, documents.length - 1)];
      if (document instanceof Error) throw document;
      return new Response(JSON.stringify(document), { status: 200 });
    }) as unknown as typeof fetch;
    return { calls, fetcher };
  }

  it('rate-limits refetches for unknown kids, and shares one fetch between concurrent callers', async () => {
    let nowMs = 1_000_000;
    const { calls, fetcher } = fakeIssuer([{ keys: [jwk('a')] }, { keys: [jwk('a'), jwk('b')] }]);
    const source = createJwksSource({
      url: 'https://issuer.test/jwks',
      fetch: fetcher,
      nowMs: () => nowMs,
      minRefetchIntervalMs: 30_000,
      refreshIntervalMs: 3_600_000,
    });
    assert.equal(await source.start(), true);
    assert.deepEqual(
      source.keys().map((k) => k.kid),
      ['a'],
    );
    assert.equal(source.refetchForUnknownKid(), undefined, 'too soon after the first fetch');
    nowMs += 30_000;
    const first = source.refetchForUnknownKid();
    const second = source.refetchForUnknownKid();
    assert.ok(first && second);
    await Promise.all([first, second]);
    assert.equal(calls.length, 2, 'two callers, one fetch');
    assert.deepEqual(
      source.keys().map((k) => k.kid),
      ['a', 'b'],
    );
    assert.equal(source.refetchForUnknownKid(), undefined);
    source.close();
  });

  it('keeps the last good keys when a fetch fails or brings no usable key, and reports why', async () => {
    let nowMs = 0;
    const problems: string[] = [];
    const { fetcher } = fakeIssuer([{ keys: [jwk('a')] }, new Error('connection refused'), { keys: [{ kty: 'oct', k: 'AAAA', kid: 'x' }] }]);
    const source = createJwksSource({
      url: 'https://issuer.test/jwks',
      fetch: fetcher,
      nowMs: () => nowMs,
      minRefetchIntervalMs: 0,
      onProblem: (p) => problems.push(p),
    });
    await source.start();
    let changes = 0;
    source.onChange(() => changes++);
    await source.refetchForUnknownKid();
    nowMs += 1;
    await source.refetchForUnknownKid();
    assert.deepEqual(
      source.keys().map((k) => k.kid),
      ['a'],
    );
    assert.equal(changes, 0);
    assert.ok(
      problems.some((p) => /connection refused; keeping the 1 keys/.test(p)),
      problems.join('\n'),
    );
    assert.ok(problems.some((p) => /no usable key/.test(p)));
    source.close();
  });

  it('start() reports a first fetch that failed instead of throwing', async () => {
    const { fetcher } = fakeIssuer([new Error('down')]);
    const source = createJwksSource({ url: 'https://issuer.test/jwks', fetch: fetcher });
    assert.equal(await source.start(), false);
    source.close();
    assert.throws(() => createJwksSource({ url: 'file:///etc/passwd' }), /must be http or https/);
  });
});

describe('certificate checks and reloading', () => {
  let certs: DevCertificateSet;
  before(() => {
    certs = makeTemporaryDevCertificates();
  });
  after(() => rmSync(certs.dir, { recursive: true, force: true }));

  it('accepts a good pair and refuses half-written, mismatched and expired ones', () => {
    const cert = readFileSync(certs.serverCert);
    const key = readFileSync(certs.serverKey);
    const now = Date.now();
    assert.equal(checkIdentity(cert, key, now).leaf.subject.includes('CN=localhost'), true);
    assert.throws(() => checkIdentity(cert.subarray(0, cert.length - 40), key, now), /unterminated PEM block|no complete PEM certificate/);
    assert.throws(() => checkIdentity(Buffer.alloc(0), key, now), /no complete PEM certificate/);
    assert.throws(() => checkIdentity(cert, key.subarray(0, 60), now), /not a readable PEM private key/);
    assert.throws(() => checkIdentity(cert, readFileSync(certs.clients.alice.key), now), /does not belong to the certificate/);
    assert.throws(() => checkIdentity(readFileSync(certs.expired.cert), readFileSync(certs.expired.key), now), /expired at 2020-02-01/);
    assert.equal(checkCaBundle(readFileSync(certs.caCert)).certificates.length, 1);
    assert.throws(() => checkCaBundle(Buffer.from('garbage')), /no complete PEM certificate/);
  });

  it('reloads a changed pair, refuses a broken one once, and exposes the expiry', async () => {
    const registry = new Registry();
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const certFile = `${certs.dir}/serving.crt`;
    const keyFile = `${certs.dir}/serving.key`;
    writeFileSync(certFile, readFileSync(certs.serverCert));
    writeFileSync(keyFile, readFileSync(certs.serverKey));
    const reloading = createReloadingCredentials({ certFile, keyFile, clientCaFile: certs.caCert, reloadIntervalMs: 0, registry, logger });
    assert.equal(reloading.reloadNow(), 'unchanged');
    assert.ok(reloading.daysUntilExpiry() > 800 && reloading.daysUntilExpiry() <= 825);
    writeFileSync(certFile, 'garbage');
    assert.equal(reloading.reloadNow(), 'refused');
    assert.equal(reloading.reloadNow(), 'refused');
    const failures = await registry.getSingleMetricAsString('gatehouse_certificate_reload_failures_total');
    assert.match(failures, /certificate="server"} 1$/m);
    // The client certificate is a valid pair too (it only lacks serverAuth, which TLS does not check on the server side).
    writeFileSync(certFile, readFileSync(certs.clients.bob.cert));
    writeFileSync(keyFile, readFileSync(certs.clients.bob.key));
    assert.equal(reloading.reloadNow(), 'reloaded');
    assert.match(reloading.servingCertificate().subject, /CN=bob/);
    assert.match(await registry.getSingleMetricAsString('gatehouse_certificate_expiry_seconds'), /certificate="server"} \d+/);
    assert.match(await registry.getSingleMetricAsString('gatehouse_certificate_expiry_seconds'), /certificate="client-ca"} \d+/);
    assert.equal(lines.filter((l) => l.level === 'error').length, 1);
    reloading.close();

    // The client CA follows its file the same way: a broken bundle is refused, a grown one is taken.
    const caFile = `${certs.dir}/serving-ca.crt`;
    writeFileSync(caFile, readFileSync(certs.caCert));
    const withCa = createReloadingCredentials({ certFile, keyFile, clientCaFile: caFile, reloadIntervalMs: 0, registry: new Registry(), logger });
    writeFileSync(caFile, readFileSync(certs.caCert).subarray(0, 100));
    assert.equal(withCa.reloadNow(), 'refused');
    assert.ok(lines.some((l) => l.msg === 'client CA reload refused; the previous CA bundle stays in use'));
    writeFileSync(caFile, Buffer.concat([readFileSync(certs.caCert), readFileSync(certs.untrusted.caCert)]));
    assert.equal(withCa.reloadNow(), 'reloaded');
    assert.ok(lines.some((l) => l.msg === 'client CA reloaded' && l.certificates === 2));
    withCa.close();
    assert.throws(
      () =>
        createReloadingCredentials({
          certFile: certs.expired.cert,
          keyFile: certs.expired.key,
          reloadIntervalMs: 0,
          registry: new Registry(),
          logger,
        }),
      /expired/,
    );
  });
});
