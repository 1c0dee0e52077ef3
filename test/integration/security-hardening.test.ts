import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { callUnary, channelCredentials, createClient } from '../../src/client/grpc-client.js';
import { assertRejects } from '../helpers/assert-status.js';
import { curlGrpcCall } from '../helpers/curl-grpc.js';
import { devTokenFor, withBearerToken } from '../helpers/dev-token.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';

/** Issue 12: what outside attack batteries found, each refused from outside over real mTLS. */
describe('security hardening (issue 12)', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startGateway({
      overrides: { 'server.handshakeTimeoutSec': 1, 'server.prefaceTimeoutSec': 1, 'server.maxConnectionsPerAddress': 50 },
    });
  });
  after(async () => {
    await gw?.close();
  });

  it("grpc-js's own log lines go through the redacting logger: no token of a repeated authorization header is logged (item 1)", async () => {
    const valid = devTokenFor(gw.certs, 'alice');
    const other = 'opaque-second-token-0123456789';
    const third = 'opaque-third-token-9876543210';
    const linesBefore = gw.logs.length;
    // The repeated authorization header never reaches grpc-js's metadata parser unstorable (src/auth/http2-hooks.ts
    // replaces what it would drop, and authentication refuses the duplicate); another header with a bearer value
    // grpc-js cannot store makes grpc-js log the value itself.
    await curlGrpcCall(gw, `/${CHEESE}/ListOrders`, [`authorization: Bearer ${valid}`, `authorization: Bearer\t${other}`], Buffer.alloc(5));
    await curlGrpcCall(
      gw,
      `/${CHEESE}/ListOrders`,
      [`authorization: Bearer ${valid}`, `x-forwarded-authorization: Bearer\t${third}`],
      Buffer.alloc(5),
    );
    const lines = gw.logs.slice(linesBefore);
    const text = JSON.stringify(lines);
    assert.ok(!text.includes(valid.split('.')[1]!), 'the valid token reached the log');
    assert.ok(!text.includes(other), 'the second (opaque) token reached the log');
    assert.ok(!text.includes(third), 'the token in another header reached the log');
    // grpc-js really did log about the value it could not store, and that line came through our logger, redacted.
    const grpcJs = lines.filter((line) => line.component === 'grpc-js');
    assert.ok(
      grpcJs.some((line) => /Failed to add metadata entry x-forwarded-authorization: .*REDACTED/.test(String(line.msg))),
      `grpc-js lines: ${JSON.stringify(grpcJs)}`,
    );
  });

  it('a CA certificate signed by the trusted CA does not authenticate as a client, even naming a known identity (item 6)', async () => {
    const dir = gw.certs.dir;
    const key = join(dir, 'rogue-ca.key');
    const cert = join(dir, 'rogue-ca.crt');
    const ext = join(dir, 'rogue-ca.ext');
    // An intermediate that also claims alice's SPIFFE ID, and every usage OpenSSL checks for a TLS client.
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/O=Gatehouse/CN=rogue-intermediate', '-out', `${cert}.csr`]);
    writeFileSync(
      ext,
      [
        'basicConstraints=critical,CA:TRUE',
        'keyUsage=critical,digitalSignature,keyCertSign,cRLSign',
        'extendedKeyUsage=clientAuth',
        `subjectAltName=URI:${gw.certs.clients.alice.identity}`,
      ].join('\n'),
    );
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        `${cert}.csr`,
        '-CA',
        gw.certs.caCert,
        '-CAkey',
        gw.certs.caKey,
        '-CAcreateserial',
        '-days',
        '30',
        '-sha256',
        '-extfile',
        ext,
        '-out',
        cert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    rmSync(`${cert}.csr`);
    const credentials = withBearerToken(
      channelCredentials({ caFile: gw.certs.caCert, certFile: cert, keyFile: key }),
      devTokenFor(gw.certs, 'alice'),
    );
    const client = createClient(CHEESE, gw.target, credentials, { 'grpc.ssl_target_name_override': 'localhost' });
    try {
      const { details } = await assertRejects(
        callUnary(client, 'listOrders', { pageSize: 1 }, { deadline: 5000 }),
        'UNAUTHENTICATED',
        /client certificate is a CA certificate \(basicConstraints CA:TRUE\)/,
      );
      assert.equal(details?.errorInfo?.reason, 'CLIENT_CERTIFICATE_REQUIRED');
      // alice's own certificate with the same token passes: the refusal is about the CA flag.
      await callUnary(gw.client(CHEESE, 'alice'), 'listOrders', { pageSize: 1 }, { deadline: 5000 });
    } finally {
      client.close();
    }
  });

  it('a metadata flood gets RESOURCE_EXHAUSTED naming the limits, not an HTTP/2 reset (item 7)', async () => {
    const token = devTokenFor(gw.certs, 'alice');
    const flood = Array.from({ length: 240 }, (_, i) => `x-flood-${i}: value-${i}`);
    const reply = await curlGrpcCall(gw, `/${CHEESE}/ListOrders`, [`authorization: Bearer ${token}`, ...flood], Buffer.alloc(5));
    // A status arrived (curl may still complain that the stream was reset after it, when the refusal beat the body).
    assert.equal(reply.code, 8, JSON.stringify(reply));
    assert.equal(reply.reason, 'METADATA_TOO_LARGE');
    assert.match(reply.message, /^request metadata has 24\d entries and \d+ bytes; at most 100 entries and 16384 bytes are accepted/);
    // Bytes too: a few large values under the entry limit.
    const big = Array.from({ length: 5 }, (_, i) => `x-big-${i}: ${'v'.repeat(4000)}`);
    const bigReply = await curlGrpcCall(gw, `/${CHEESE}/ListOrders`, [`authorization: Bearer ${token}`, ...big], Buffer.alloc(5));
    assert.equal(bigReply.reason, 'METADATA_TOO_LARGE', JSON.stringify(bigReply));
    // Within the limits the same call passes.
    assert.equal(
      (await curlGrpcCall(gw, `/${CHEESE}/ListOrders`, [`authorization: Bearer ${token}`, ...flood.slice(0, 50)], Buffer.alloc(5))).code,
      0,
    );
  });

  it('an Order whose int32 is a 6-byte varint (read as quantity 1 by protobufjs, 7 by Python) is refused, not placed (item 11)', async () => {
    const token = devTokenFor(gw.certs, 'alice');
    const key = `varint-${Date.now()}`;
    const message = Buffer.concat([Buffer.from('088c808080800110012007', 'hex'), Buffer.from([0x1a, key.length]), Buffer.from(key)]);
    const body = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
    const reply = await curlGrpcCall(gw, `/${CHEESE}/Order`, [`authorization: Bearer ${token}`], body);
    assert.equal(reply.reason, 'REQUEST_UNDECODABLE', JSON.stringify(reply));
    const orders = await callUnary<{ orders: { idempotencyKey: string }[] }>(
      gw.client(CHEESE, 'alice'),
      'listOrders',
      { pageSize: 100 },
      { deadline: 5000 },
    );
    assert.ok(!orders.orders.some((order) => order.idempotencyKey === key), 'the misread order was placed');
    // The same order written canonically is placed: the refusal is about the encoding.
    const canonical = Buffer.concat([Buffer.from('080c10012007', 'hex'), Buffer.from([0x1a, key.length]), Buffer.from(key)]);
    const placed = await curlGrpcCall(
      gw,
      `/${CHEESE}/Order`,
      [`authorization: Bearer ${token}`],
      Buffer.concat([Buffer.from([0, 0, 0, 0, canonical.length]), canonical]),
    );
    assert.equal(placed.code, 0, JSON.stringify(placed));
  });

  it('that refusal is INVALID_ARGUMENT, a client error', async () => {
    const token = devTokenFor(gw.certs, 'alice');
    const message = Buffer.from('088c808080800110012007', 'hex');
    const reply = await curlGrpcCall(
      gw,
      `/${CHEESE}/Order`,
      [`authorization: Bearer ${token}`],
      Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]),
    );
    assert.equal(reply.code, 3, JSON.stringify(reply));
  });

  it('silent connections are closed after the handshake or preface timeout, and one address gets at most its cap (item 5)', async () => {
    const startedAt = performance.now();
    // TLS done, HTTP/2 preface never sent.
    const noPreface = await tlsWithoutPreface(gw);
    // Plaintext health port: connected, no preface.
    const healthSilent = await openSocket(gw.addresses.healthPort!);
    // 200 TCP connections that never start TLS: up to the cap of 50 per address (less what this test file holds open
    // already) are admitted and closed at the handshake timeout, the rest at once.
    const silent = await Promise.all(Array.from({ length: 200 }, () => openSocket(gw.addresses.grpcPort)));
    const closedAt = await Promise.all([...silent, noPreface, healthSilent].map((socket) => closedWithin(socket, 5000)));
    const elapsedSec = (performance.now() - startedAt) / 1000;
    assert.ok(
      closedAt.every((t) => t !== undefined),
      `${closedAt.filter((t) => t === undefined).length} connections still open after 5 s`,
    );
    assert.ok(elapsedSec < 4, `closing took ${elapsedSec.toFixed(1)} s with 1 s timeouts`);
    const metrics = await gw.gateway.registry.getSingleMetricAsString('gatehouse_connections_closed_total');
    const count = (reason: string) => Number(new RegExp(`reason="${reason}"} (\\d+)`).exec(metrics)?.[1]);
    assert.ok(count('per_address_limit') >= 150, metrics);
    assert.equal(count('per_address_limit') + count('handshake_timeout'), 200, metrics);
    assert.equal(count('preface_timeout'), 2, metrics);
    // The server still serves.
    await callUnary(gw.client(CHEESE, 'alice'), 'listOrders', { pageSize: 1 }, { deadline: 5000 });
  });
});

/** A TCP connection that sends nothing; one the server resets at once (over its cap) resolves too, already closed. */
function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => resolve(socket));
  });
}

function tlsWithoutPreface(gw: TestGateway): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      {
        host: '127.0.0.1',
        port: gw.addresses.grpcPort,
        servername: 'localhost',
        ALPNProtocols: ['h2'],
        ca: readFileSync(gw.certs.caCert),
        cert: readFileSync(gw.certs.clients.alice.cert),
        key: readFileSync(gw.certs.clients.alice.key),
      },
      () => resolve(socket),
    );
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

/** Milliseconds until the peer closed `socket`, or undefined when it stayed open for `limitMs`. */
function closedWithin(socket: Socket, limitMs: number): Promise<number | undefined> {
  const startedAt = performance.now();
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - startedAt);
    });
    socket.resume();
  });
}
