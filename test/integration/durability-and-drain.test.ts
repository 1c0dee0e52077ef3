import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { makeTemporaryDevCertificates, type DevCertificateSet } from '../../certs/dev-certificates.js';
import { callUnary, channelCredentials, createClient } from '../../src/client/grpc-client.js';
import { checkHealth, waitForHealth } from '../helpers/health-client.js';
import { devTokenFor, withBearerToken } from '../helpers/dev-token.js';
import { spawnGateway } from '../helpers/gateway-process.js';

const CHEESE = 'cheesefarm.v1.CheeseService';

describe('a real gateway process', () => {
  let certs: DevCertificateSet;
  let dataDir: string;
  const clients: grpc.Client[] = [];
  const client = (port: number) => {
    const c = createClient(
      CHEESE,
      `127.0.0.1:${port}`,
      withBearerToken(
        channelCredentials({ caFile: certs.caCert, certFile: certs.clients.alice.cert, keyFile: certs.clients.alice.key }),
        devTokenFor(certs, 'alice'),
      ),
      { 'grpc.ssl_target_name_override': 'localhost' },
    );
    clients.push(c);
    return c;
  };
  before(() => {
    certs = makeTemporaryDevCertificates();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-durable-'));
  });
  after(() => {
    for (const c of clients) c.close();
    rmSync(certs.dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps an acknowledged order across kill -9', async () => {
    const db = join(dataDir, 'orders.db');
    const first = await spawnGateway(certs, db);
    const order = await callUnary<{ orderId: string }>(client(first.grpcPort), 'order', { type: 'BRIE', age: 7, idempotencyKey: 'survives-kill' });
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');

    const second = await spawnGateway(certs, db);
    try {
      const again = await callUnary<{ orderId: string; type: string }>(client(second.grpcPort), 'getOrder', { orderId: order.orderId });
      assert.equal(again.type, 'BRIE');
      const replay = await callUnary<{ orderId: string }>(client(second.grpcPort), 'order', {
        type: 'BRIE',
        age: 7,
        idempotencyKey: 'survives-kill',
      });
      assert.equal(replay.orderId, order.orderId, 'the idempotency key still maps to the same order after the crash');
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
  });

  it('on SIGTERM turns health NOT_SERVING first, lets an in-flight call finish, then exits 0', async () => {
    const gw = await spawnGateway(certs, join(dataDir, 'drain.db'), { GATEHOUSE_SERVER__SHUTDOWN_GRACE_MS: '8000' });
    const plaintext = channelCredentials('insecure');
    assert.equal(await waitForHealth(`127.0.0.1:${gw.healthPort}`, plaintext, 'SERVING'), 'SERVING');

    // A client stream stays in flight until we end it: the "long call".
    const cheese = client(gw.grpcPort);
    let summary: { accepted: number } | undefined;
    const call = (
      cheese as unknown as { placeOrders(cb: (e: grpc.ServiceError | null, r: { accepted: number }) => void): grpc.ClientWritableStream<unknown> }
    ).placeOrders((error, reply) => {
      if (error) throw error;
      summary = reply;
    });
    call.write({ type: 'PECORINO', age: 10, idempotencyKey: 'drain-1' });
    await sleep(300);

    gw.child.kill('SIGTERM');
    let healthAfterSigterm = 'SERVING';
    for (let i = 0; i < 40 && healthAfterSigterm === 'SERVING'; i += 1) {
      healthAfterSigterm = await checkHealth(`127.0.0.1:${gw.healthPort}`, plaintext);
      await sleep(25);
    }
    assert.equal(healthAfterSigterm, 'NOT_SERVING', 'health flips while the call is still in flight');

    call.write({ type: 'PECORINO', age: 11, idempotencyKey: 'drain-2' });
    call.end();
    assert.equal(await gw.exited, 0);
    assert.equal(summary?.accepted, 2, 'the in-flight call completed with both orders');
    const draining = gw.output.findIndex((l) => l.includes('draining'));
    const stopped = gw.output.findIndex((l) => l.includes('"msg":"stopped"'));
    assert.ok(draining >= 0 && stopped > draining);
  });

  it('stops before listening when config is invalid, listing every problem', async () => {
    await assert.rejects(
      spawnGateway(certs, join(dataDir, 'bad.db'), { GATEHOUSE_SERVER__PORT: 'eighty', GATEHOUSE_LOGGING__LEVEL: 'chatty' }),
      (error: Error) => /exited \(2\)/.test(error.message) && /server\.port/.test(error.message) && /logging\.level/.test(error.message),
    );
  });
});

describe('a stream that outlives the drain grace', () => {
  it('is cancelled when the grace ends, and the process still exits 0', async () => {
    const certs = makeTemporaryDevCertificates();
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-grace-'));
    const gw = await spawnGateway(certs, join(dataDir, 'grace.db'), { GATEHOUSE_SERVER__SHUTDOWN_GRACE_MS: '500' });
    const cheese = createClient(
      CHEESE,
      `127.0.0.1:${gw.grpcPort}`,
      withBearerToken(
        channelCredentials({ caFile: certs.caCert, certFile: certs.clients.bob.cert, keyFile: certs.clients.bob.key }),
        devTokenFor(certs, 'bob'),
      ),
      { 'grpc.ssl_target_name_override': 'localhost' },
    );
    try {
      const watch = (cheese as unknown as { watchOrders(r: object): grpc.ClientReadableStream<unknown> }).watchOrders({});
      const ended = new Promise<grpc.ServiceError | 'OK'>((resolve) => {
        watch.on('error', (error: grpc.ServiceError) => resolve(error));
        watch.on('end', () => resolve('OK'));
      });
      watch.on('data', () => undefined);
      await sleep(300);
      const sigtermAt = Date.now();
      gw.child.kill('SIGTERM');
      const outcome = await ended;
      assert.ok(outcome !== 'OK', 'the watch did not end with OK: it was cut off');
      // README (Shutdown): streams that outlive the grace are cancelled, which the client reads as CANCELLED.
      assert.equal(Status[outcome.code], 'CANCELLED', `the watch ended with ${Status[outcome.code]}: ${outcome.details}`);
      assert.ok(Date.now() - sigtermAt >= 400, 'the stream was given the grace period before it was cancelled');
      assert.equal(await gw.exited, 0);
      assert.ok(gw.output.some((l) => l.includes('grace period over')));
    } finally {
      cheese.close();
      rmSync(certs.dir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
