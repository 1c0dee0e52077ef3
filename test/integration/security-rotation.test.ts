import type * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:tls';
import { makeTemporaryDevCertificates, type DevCertificateSet } from '../../certs/dev-certificates.js';
import { callUnary, openServerStream } from '../../src/client/grpc-client.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';

describe('security: server certificate rotation', () => {
  let certs: DevCertificateSet;
  let gw: TestGateway;
  let next: { cert: Buffer; key: Buffer; fingerprint: string };
  let original: { cert: Buffer; key: Buffer; fingerprint: string };

  before(async () => {
    certs = makeTemporaryDevCertificates();
    original = pair(readFileSync(certs.serverCert), readFileSync(certs.serverKey));
    next = issueServerCertificate(certs, 'rotated');
    gw = await startGateway({ certs, overrides: { 'server.tls.reloadIntervalMs': 50 } });
  });

  after(async () => {
    await gw?.close();
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it('swaps the certificate under a live stream; new connections get it; a corrupt replacement leaves it serving', async () => {
    assert.equal(await servedFingerprint(gw, certs), original.fingerprint);
    assert.ok(Math.abs((await expirySeconds(gw)) - secondsUntil(original.cert)) < 60);

    // A long-lived stream on a connection made with the original certificate.
    const watcher = gw.client(CHEESE, 'alice');
    const stream = openServerStream<{ order?: { idempotencyKey: string } }>(watcher, 'watchOrders', {});
    const seen: string[] = [];
    let streamError: grpc.ServiceError | undefined;
    stream.on('data', (event: { order?: { idempotencyKey: string } }) => {
      if (event.order) seen.push(event.order.idempotencyKey);
    });
    stream.on('error', (error: grpc.ServiceError) => {
      streamError = error;
    });
    await callUnary(watcher, 'order', { type: 'BRIE', age: 5, idempotencyKey: 'before-rotation' });
    await until(() => seen.includes('before-rotation'), 'the stream saw the first order');

    // Both files change in one synchronous step, as an atomic secret update would; the reload check runs between ticks.
    writeFileSync(certs.serverKey, next.key);
    writeFileSync(certs.serverCert, next.cert);
    await until(async () => (await servedFingerprint(gw, certs)) === next.fingerprint, 'new connections see the rotated certificate');
    assert.ok(Math.abs((await expirySeconds(gw)) - secondsUntil(next.cert)) < 60, 'the expiry gauge follows the rotated certificate');
    assert.ok(
      gw.logs.some((line) => line.msg === 'server certificate reloaded' && line.fingerprint256 === new X509Certificate(next.cert).fingerprint256),
    );

    // The stream opened before the rotation keeps working, on its old connection.
    await callUnary(watcher, 'order', { type: 'BRIE', age: 6, idempotencyKey: 'after-rotation' });
    await until(() => seen.includes('after-rotation'), 'the stream saw an order placed after the rotation');
    // And a brand-new client connects (its handshake uses the rotated certificate).
    await callUnary(gw.client(CHEESE, 'bob'), 'listOrders', { pageSize: 1 });

    // A half-written certificate: refused, counted, logged; the rotated certificate keeps serving.
    writeFileSync(certs.serverCert, next.cert.subarray(0, Math.floor(next.cert.length / 2)));
    await until(async () => (await reloadFailures(gw)) === 1, 'the corrupt file is counted once');
    assert.equal(await servedFingerprint(gw, certs), next.fingerprint);
    await sleep(200);
    assert.equal(await reloadFailures(gw), 1, 'a broken file is counted once, not at every check');
    // A complete certificate with a key that is not its own: refused too.
    writeFileSync(certs.serverCert, original.cert);
    await until(async () => (await reloadFailures(gw)) === 2, 'the mismatched pair is counted');
    assert.equal(await servedFingerprint(gw, certs), next.fingerprint);
    const refusals = gw.logs.filter((line) => line.msg === 'server certificate reload refused; the previous certificate keeps serving');
    assert.match(String(refusals[0]?.problem), /no complete PEM certificate|unterminated PEM block/);
    assert.match(String(refusals[1]?.problem), /key file does not belong to the certificate/);
    assert.ok(!JSON.stringify(gw.logs).includes('PRIVATE KEY'), 'key material in the log');

    await callUnary(gw.client(CHEESE, 'alice'), 'listOrders', { pageSize: 1 });
    await callUnary(watcher, 'order', { type: 'BRIE', age: 7, idempotencyKey: 'after-corruption' });
    await until(() => seen.includes('after-corruption'), 'the stream is still alive');
    assert.equal(streamError, undefined);
    stream.cancel();
  });
});

function pair(cert: Buffer, key: Buffer) {
  return { cert, key, fingerprint: new X509Certificate(cert).fingerprint256 };
}

/** A second server certificate from the same development CA (localhost, 127.0.0.1), valid 30 days. */
function issueServerCertificate(certs: DevCertificateSet, name: string) {
  const key = join(certs.dir, `${name}.key`);
  const csr = join(certs.dir, `${name}.csr`);
  const cert = join(certs.dir, `${name}.crt`);
  const ext = join(certs.dir, `${name}.ext`);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  openssl(['req', '-new', '-key', key, '-subj', `/O=Gatehouse/CN=localhost-${name}`, '-out', csr]);
  writeFileSync(
    ext,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
  );
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    certs.caCert,
    '-CAkey',
    certs.caKey,
    '-CAcreateserial',
    '-days',
    '30',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return pair(readFileSync(cert), readFileSync(key));
}

/** The fingerprint of the certificate a new TLS connection is served. */
function servedFingerprint(gw: TestGateway, certs: DevCertificateSet): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port: gw.addresses.grpcPort,
        servername: 'localhost',
        ALPNProtocols: ['h2'],
        ca: readFileSync(certs.caCert),
        cert: readFileSync(certs.clients.alice.cert),
        key: readFileSync(certs.clients.alice.key),
      },
      () => {
        const fingerprint = socket.getPeerCertificate().fingerprint256;
        socket.destroy();
        resolve(fingerprint);
      },
    );
    socket.once('error', reject);
  });
}

async function metric(gw: TestGateway, name: string, label: string): Promise<number> {
  const text = await gw.gateway.registry.getSingleMetricAsString(name);
  return Number(new RegExp(`certificate="${label}"} (\\S+)`).exec(text)?.[1]);
}
const expirySeconds = (gw: TestGateway) => metric(gw, 'gatehouse_certificate_expiry_seconds', 'server');
const reloadFailures = (gw: TestGateway) => metric(gw, 'gatehouse_certificate_reload_failures_total', 'server');
const secondsUntil = (cert: Buffer) => (Date.parse(new X509Certificate(cert).validTo) - Date.now()) / 1000;

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}
