/**
 * What the outside attack and fault batteries found in the chain and the
 * listener (issue 12 items 2, 4, 12 and 16), each checked from a client's side.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as h2connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { callUnary } from '../../src/client/grpc-client.js';
import { checkHealthStatus } from '../../src/client/health-check.js';
import { devTokenFor } from '../helpers/dev-token.js';
import { checkHealth } from '../helpers/health-client.js';
import { curlGrpcCall } from '../helpers/curl-grpc.js';
import { createSlowService, SLOW_SERVICE, SlowClient } from '../helpers/slow-service.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';
const HEALTH_CHECK = '/grpc.health.v1.Health/Check';

/** An HTTP/2 session over mTLS as alice, on an already connected TCP socket when one is given. */
function aliceSession(gw: TestGateway, socket?: ReturnType<typeof tcpConnect>): ClientHttp2Session {
  const tls = {
    ca: readFileSync(gw.certs.caCert),
    cert: readFileSync(gw.certs.clients.alice.cert),
    key: readFileSync(gw.certs.clients.alice.key),
    servername: 'localhost',
    ALPNProtocols: ['h2'],
  };
  return h2connect(`https://localhost:${gw.addresses.grpcPort}`, {
    createConnection: () => tlsConnect(socket ? { ...tls, socket } : { ...tls, host: '127.0.0.1', port: gw.addresses.grpcPort }),
  });
}

/** One unary call on `session`; the grpc-status the client got, or the HTTP/2 reset code when there was none. */
function rawCall(
  session: ClientHttp2Session,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ grpcStatus?: number; rstCode?: number }> {
  return new Promise((resolve) => {
    let grpcStatus: number | undefined;
    let stream;
    try {
      stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    } catch {
      resolve({ rstCode: h2.NGHTTP2_REFUSED_STREAM }); // the session already had GOAWAY
      return;
    }
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) grpcStatus = Number(h['grpc-status']);
    });
    stream.on('trailers', (t) => {
      grpcStatus = Number(t['grpc-status']);
    });
    stream.on('error', () => undefined);
    stream.on('close', () => resolve(grpcStatus === undefined ? { rstCode: stream.rstCode } : { grpcStatus }));
    stream.resume();
    stream.end(Buffer.alloc(5)); // an empty message
  });
}

describe('chain hardening (issue 12)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({
      extraServices: [createSlowService()],
      overrides: { 'policy.services': { [SLOW_SERVICE]: { requireToken: false } }, 'deadlines.maxMs': 0 },
    });
  });
  after(async () => {
    await gw?.close();
  });

  it('two authorization headers are refused even when grpc-js could not store one of them (a tab), in either order', async () => {
    const token = devTokenFor(gw.certs, 'alice', {}, gw.config);
    for (const headers of [
      [`authorization: Bearer ${token}`, `authorization: Bearer\t${token}`],
      [`authorization: Bearer\t${token}`, `authorization: Bearer ${token}`],
    ]) {
      const reply = await curlGrpcCall(gw, `/${CHEESE}/ListOrders`, headers);
      assert.equal(reply.reason, 'TOKEN_DUPLICATE', `${JSON.stringify(headers.map((h) => h.replace(token, '<token>')))} got ${reply.message}`);
      assert.equal(reply.code, grpc.status.UNAUTHENTICATED);
    }
  });

  it('streams the client resets at once are CANCELLED at debug level, never logged or counted as server errors', async () => {
    const session = aliceSession(gw);
    await new Promise<void>((resolve) => session.once('connect', () => resolve()));
    // Rapid reset: headers with end-of-stream, then RST_STREAM, in the same write.
    for (let i = 0; i < 300; i++) {
      const stream = session.request(
        { ':method': 'POST', ':path': HEALTH_CHECK, 'content-type': 'application/grpc', te: 'trailers' },
        { endStream: true },
      );
      stream.on('error', () => undefined);
      stream.close(h2.NGHTTP2_CANCEL);
    }
    await sleep(1000);
    session.close();
    const text = await gw.gateway.registry.getSingleMetricAsString('grpc_server_handled_total');
    const count = (code: string) => Number(new RegExp(`grpc_method="Check",grpc_code="${code}"} (\\d+)`).exec(text)?.[1] ?? 0);
    const lines = gw.logs.filter((line) => line.msg === 'grpc call' && line.method === HEALTH_CHECK);
    // A status the server wrote before the reset arrived is not a reset from where the server stands; it must
    // still be a client error (an empty request), never a server error.
    for (const code of ['Unimplemented', 'Internal', 'Unknown']) assert.equal(count(code), 0, `client resets were counted as ${code}`);
    // Streams reset before grpc-js started them reach no interceptor at all; those that did are Canceled.
    assert.ok(count('Canceled') > 0, 'no reset stream was counted as Canceled');
    const loud = lines.filter((line) => line.level === 'error' || line.level === 'warn');
    assert.deepEqual(
      loud.map((line) => `${String(line.code)} ${String(line.details)}`),
      [],
      'a reset stream was logged at warn or error',
    );
    assert.ok(
      lines.filter((line) => line.code === 'CANCELLED').every((line) => line.level === 'debug'),
      'CANCELLED was logged above debug',
    );
  });

  it('a deadline 25 days ahead (past the 2^31 ms timer limit) is served, not expired at once', async () => {
    // grpc-js's client, on both listeners (the health-only one is a plain grpc-js server with the same overflow).
    const days25 = 25 * 24 * 3600 * 1000;
    assert.equal(await checkHealthStatus(gw.healthTarget, grpc.credentials.createInsecure(), '', days25), 'SERVING');
    // Raw, so the header is exactly what the battery sent: 600 hours.
    const session = aliceSession(gw);
    const raw = await rawCall(session, HEALTH_CHECK, { 'grpc-timeout': '600H' });
    session.close();
    assert.equal(raw.grpcStatus, grpc.status.OK);
  });

  it('drain: from its start new connections and new streams are refused, and health reads NOT_SERVING before the listener closes', async () => {
    const slow = new SlowClient(gw.target, gw.credentials('alice'), { 'grpc.ssl_target_name_override': 'localhost' });
    // A call in flight keeps the drain going; a connection that exists before it; one whose handshake comes after.
    const inFlight = callUnary(slow, 'Work', { workMs: 1500 }, { deadline: 10_000 }).then(
      () => 'finished',
      (e: grpc.ServiceError) => `code ${e.code}`,
    );
    const old = aliceSession(gw);
    assert.deepEqual(await rawCall(old, HEALTH_CHECK), { grpcStatus: 0 });
    const late = tcpConnect(gw.addresses.grpcPort, '127.0.0.1');
    await new Promise<void>((resolve) => late.once('connect', () => resolve()));
    await sleep(200);

    const drained = gw.gateway.shutdown();
    await sleep(100);
    const token = devTokenFor(gw.certs, 'alice', {}, gw.config);
    const onOld = await rawCall(old, `/${CHEESE}/ListOrders`, { authorization: `Bearer ${token}` });
    assert.notEqual(onOld.grpcStatus, 0, 'a new stream on an old connection was served after draining began');
    const lateSession = aliceSession(gw, late);
    lateSession.on('error', () => undefined);
    const onLate = await rawCall(lateSession, `/${CHEESE}/ListOrders`, { authorization: `Bearer ${token}` });
    assert.notEqual(onLate.grpcStatus, 0, 'a connection that completed its handshake after draining began was served');
    assert.equal(await checkHealth(gw.healthTarget, grpc.credentials.createInsecure()), 'NOT_SERVING');
    assert.equal(await inFlight, 'finished', 'the call in flight did not finish within the grace');
    lateSession.destroy();
    old.destroy();
    slow.close();
    await drained;
  });
});
