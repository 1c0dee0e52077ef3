/**
 * What a client gets for mistakes only a raw HTTP/2 client can make (grpc-js
 * clients never send undecodable bytes, bad compression or a malformed
 * grpc-timeout), on both gRPC listeners: Gatehouse's own words, a catalogued
 * reason in grpc-status-details-bin, never INTERNAL, never grpc-js's wording,
 * a bounded message, and a connection that still works afterwards.
 */
import { status as Status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import type { ClientHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { MAX_STATUS_MESSAGE_BYTES } from '../../interceptors/bounded-text.js';
import { REASONS } from '../../src/status/reasons.js';
import { devTokenFor } from '../helpers/dev-token.js';
import { connectHealth, connectMain, grpcFrame, rawCall, type RawReply } from '../helpers/raw-grpc.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const ORDER = '/cheesefarm.v1.CheeseService/Order';
const GET_ORDER = '/cheesefarm.v1.CheeseService/GetOrder';
const CHECK = '/grpc.health.v1.Health/Check';
const WATCH = '/grpc.health.v1.Health/Watch';

/** A HealthCheckRequest naming `service` (field 1, length-delimited). */
function healthCheckRequest(service: string): Buffer {
  const bytes = Buffer.from(service, 'utf8');
  const length: number[] = [];
  let n = bytes.length;
  do {
    length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x0a, ...length]), bytes]);
}

/** The reply has our details: a catalogued reason whose code is the status code, and none of grpc-js's words. */
function assertOwnStatus(reply: RawReply, code: keyof typeof Status, reason: string, message?: RegExp): void {
  assert.equal(Status[reply.code], code, `expected ${code}, got ${Status[reply.code]}: ${reply.message}`);
  assert.ok(reply.details, `no grpc-status-details-bin on ${code}: ${reply.message}`);
  assert.equal(reply.details.errorInfo?.reason, reason, reply.message);
  assert.equal(REASONS[reason as keyof typeof REASONS]?.code, reply.code, `${reason} is not catalogued with ${code}`);
  assert.equal(reply.details.message, reply.message);
  assert.doesNotMatch(
    reply.message,
    /Received a second|Received no request|larger than max|Error deserializing|Failed to decompress|Invalid grpc-timeout|does not implement|Health status unknown/,
  );
  assert.ok(Buffer.byteLength(reply.message) <= MAX_STATUS_MESSAGE_BYTES, `message of ${Buffer.byteLength(reply.message)} bytes`);
  if (message) assert.match(reply.message, message);
}

describe('statuses for wire-level client mistakes', () => {
  let gw: TestGateway;
  let main: ClientHttp2Session;
  let health: ClientHttp2Session;
  let authorization: string;

  before(async () => {
    // 6 MiB: above grpc-js's default 4 MiB, so the health listener must be given the main listener's limit.
    gw = await startGateway({ overrides: { 'server.maxReceiveMessageBytes': 6 * 1024 * 1024 } });
    authorization = `Bearer ${devTokenFor(gw.certs, 'alice', {}, gw.config)}`;
    main = await connectMain(gw);
    health = await connectHealth(gw);
  });
  after(async () => {
    main?.close();
    health?.close();
    await gw?.close();
  });

  /** A call that must work on the same connection after a refusal. */
  const stillWorks = async (session: ClientHttp2Session) => {
    const reply = await rawCall(session, CHECK, { body: grpcFrame(healthCheckRequest('')) });
    assert.equal(reply.code, Status.OK, `the connection no longer works: ${reply.message}`);
  };
  const asAlice = (headers: Record<string, string> = {}) => ({ authorization, ...headers });

  it('a request that does not decode (Order with body 08) is INVALID_ARGUMENT, not INTERNAL', async () => {
    const reply = await rawCall(main, ORDER, { headers: asAlice(), body: grpcFrame(Buffer.from([0x08])) });
    assertOwnStatus(reply, 'INVALID_ARGUMENT', 'REQUEST_UNDECODABLE', /not a valid protobuf encoding/);
    await stillWorks(main);
    // Counted as the client's error, so it never trips a server-error alert.
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      /grpc_server_handled_total\{grpc_type="unary",grpc_service="cheesefarm\.v1\.CheeseService",grpc_method="Order",grpc_code="InvalidArgument"\} 1\n/,
    );
    assert.doesNotMatch(metrics, /grpc_server_handled_total\{[^}]*grpc_code="Internal"\} [1-9]/);
  });

  it('a compressed message that is not gzip is INVALID_ARGUMENT', async () => {
    const reply = await rawCall(main, ORDER, {
      headers: asAlice({ 'grpc-encoding': 'gzip' }),
      body: grpcFrame(Buffer.from('this is not gzip data'), true),
    });
    assertOwnStatus(reply, 'INVALID_ARGUMENT', 'REQUEST_DECOMPRESSION_FAILED', /grpc-encoding/);
    await stillWorks(main);
  });

  it('a compression the server does not know is UNIMPLEMENTED in our words, the encoding echoed bounded', async () => {
    const reply = await rawCall(main, ORDER, {
      headers: asAlice({ 'grpc-encoding': `x-${'z'.repeat(5000)}` }),
      body: grpcFrame(Buffer.from([0x08, 0x01]), true),
    });
    assertOwnStatus(reply, 'UNIMPLEMENTED', 'COMPRESSION_UNSUPPORTED', /does not support: use gzip or deflate/);
    assert.ok(reply.message.length < 400, reply.message);
    await stillWorks(main);
  });

  for (const timeout of ['5s', 'S', '', 'soon']) {
    it(`a malformed grpc-timeout (${JSON.stringify(timeout)}) is INVALID_ARGUMENT`, async () => {
      const reply = await rawCall(main, GET_ORDER, {
        headers: asAlice({ 'grpc-timeout': timeout }),
        body: grpcFrame(Buffer.from([0x0a, 0x01, 0x78])),
      });
      assertOwnStatus(reply, 'INVALID_ARGUMENT', 'TIMEOUT_HEADER_INVALID', /grpc-timeout header .* is malformed/);
      await stillWorks(main);
    });
  }

  it('a second request message on a unary or server-streaming method is INVALID_ARGUMENT in our words', async () => {
    const two = Buffer.concat([grpcFrame(healthCheckRequest('')), grpcFrame(healthCheckRequest(''))]);
    assertOwnStatus(await rawCall(main, CHECK, { body: two }), 'INVALID_ARGUMENT', 'REQUEST_MESSAGE_COUNT', /takes exactly one request message/);
    assertOwnStatus(await rawCall(main, WATCH, { body: two }), 'INVALID_ARGUMENT', 'REQUEST_MESSAGE_COUNT', /more than one/);
    assertOwnStatus(await rawCall(main, CHECK, {}), 'INVALID_ARGUMENT', 'REQUEST_MESSAGE_COUNT', /without sending it/);
    await stillWorks(main);
  });

  it('an unknown method is UNIMPLEMENTED with details; a 20 KB path is not echoed whole', async () => {
    const reply = await rawCall(main, '/cheesefarm.v1.CheeseService/Nope', { headers: asAlice(), body: grpcFrame(Buffer.alloc(0)) });
    assertOwnStatus(reply, 'UNIMPLEMENTED', 'METHOD_NOT_FOUND', /no method "\/cheesefarm\.v1\.CheeseService\/Nope"/);
    const long = await rawCall(main, `/x.Y/${'é'.repeat(10_000)}`, { headers: asAlice(), body: grpcFrame(Buffer.alloc(0)) });
    assertOwnStatus(long, 'UNIMPLEMENTED', 'METHOD_NOT_FOUND', /\.\.\. and \d+ more characters/);
    await stillWorks(main);
  });

  it('health listener: ff ff is INVALID_ARGUMENT, not INTERNAL', async () => {
    const reply = await rawCall(health, CHECK, { body: grpcFrame(Buffer.from([0xff, 0xff])) });
    assertOwnStatus(reply, 'INVALID_ARGUMENT', 'REQUEST_UNDECODABLE');
    await stillWorks(health);
  });

  it("health listener: accepts the main listener's message size, and an unknown service name is echoed bounded", async () => {
    // 5 MB: over grpc-js's default 4 MiB, under server.maxReceiveMessageBytes (6 MiB here).
    const reply = await rawCall(health, CHECK, { body: grpcFrame(healthCheckRequest('s'.repeat(5_000_000))), timeoutMs: 10_000 });
    assertOwnStatus(reply, 'NOT_FOUND', 'HEALTH_SERVICE_UNKNOWN', /knows no service named "s+" \.\.\. and \d+ more characters/);
    await stillWorks(health);
  });

  it('health listener: a message over the limit gets our words naming the config key', async () => {
    const limit = gw.config.server.maxReceiveMessageBytes;
    const reply = await rawCall(health, CHECK, { body: grpcFrame(healthCheckRequest('s'.repeat(limit + 10))), timeoutMs: 10_000 });
    assertOwnStatus(reply, 'RESOURCE_EXHAUSTED', 'REQUEST_TOO_LARGE', new RegExp(`at most ${limit} bytes .*server\\.maxReceiveMessageBytes`));
    await stillWorks(health);
  });

  it('health listener: an unknown method is UNIMPLEMENTED with details', async () => {
    assertOwnStatus(
      await rawCall(health, '/cheesefarm.v1.CheeseService/Order', { body: grpcFrame(Buffer.alloc(0)) }),
      'UNIMPLEMENTED',
      'METHOD_NOT_FOUND',
    );
    await stillWorks(health);
  });
});
