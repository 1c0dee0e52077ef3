import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as grpc from '@grpc/grpc-js';
import { callClientStream, callUnary, collectServerStream, openServerStream } from '../../src/client/grpc-client.js';
import { assertRejects } from '../helpers/assert-status.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';

interface Cheese {
  orderId: string;
  type: string;
  age: number;
  quantity: number;
  orderedBy: string;
  idempotencyKey: string;
  orderedAt: { seconds: string };
}

describe('CheeseService over mTLS', () => {
  let gw: TestGateway;
  let alice: grpc.Client;
  let bob: grpc.Client;
  before(async () => {
    gw = await startGateway({ overrides: { 'cheese.stock': { BRIE: 100, EMMENTAL: 100, PECORINO: 100, ROQUEFORT: 3, CANASTRA: 100 } } });
    alice = gw.client(CHEESE, 'alice');
    bob = gw.client(CHEESE, 'bob');
  });
  after(async () => {
    await gw.close();
  });

  it('Order places an order and GetOrder reads it back', async () => {
    const order = await callUnary<Cheese>(alice, 'order', { type: 'PECORINO', age: 14, quantity: 2, idempotencyKey: 'get-1' });
    assert.equal(order.type, 'PECORINO');
    assert.equal(order.age, 14);
    assert.equal(order.quantity, 2);
    assert.ok(Number(order.orderedAt.seconds) > 1_700_000_000);
    assert.deepEqual(await callUnary<Cheese>(alice, 'getOrder', { orderId: order.orderId }), order);
  });

  it('a repeated idempotency key returns the same order and places nothing new', async () => {
    const first = await callUnary<Cheese>(alice, 'order', { type: 'BRIE', age: 4, idempotencyKey: 'same-key' });
    const again = await callUnary<Cheese>(alice, 'order', { type: 'BRIE', age: 4, idempotencyKey: 'same-key' });
    assert.equal(again.orderId, first.orderId);
    const page = await callUnary<{ orders: Cheese[] }>(alice, 'listOrders', { pageSize: 100 });
    assert.equal(page.orders.filter((o) => o.idempotencyKey === 'same-key' && o.orderedBy === first.orderedBy).length, 1);
  });

  it("keys are per client: bob using alice's key gets his own order", async () => {
    const fromAlice = await callUnary<Cheese>(alice, 'order', { type: 'BRIE', age: 4, idempotencyKey: 'shared-key' });
    const fromBob = await callUnary<Cheese>(bob, 'order', { type: 'BRIE', age: 4, idempotencyKey: 'shared-key' });
    assert.notEqual(fromBob.orderId, fromAlice.orderId);
    assert.equal(fromBob.orderedBy, gw.certs.clients.bob.identity);
  });

  it('reusing a key for a different order is ALREADY_EXISTS, naming the first order', async () => {
    const first = await callUnary<Cheese>(alice, 'order', { type: 'BRIE', age: 4, idempotencyKey: 'reused' });
    const { details } = await assertRejects(
      callUnary(alice, 'order', { type: 'BRIE', age: 9, idempotencyKey: 'reused' }),
      'ALREADY_EXISTS',
      new RegExp(first.orderId),
    );
    assert.equal(details?.errorInfo?.reason, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('bad input is INVALID_ARGUMENT listing every field at once', async () => {
    const { details } = await assertRejects(
      callUnary(alice, 'order', { age: 0, idempotencyKey: '' }),
      'INVALID_ARGUMENT',
      /type must be one of EMMENTAL, BRIE, PECORINO, ROQUEFORT, CANASTRA; it is missing.*age must be 1 to 120 months.*idempotency_key is required/,
    );
    assert.deepEqual(
      details?.fieldViolations?.map((v) => v.field),
      ['type', 'age', 'idempotency_key'],
    );
    await assertRejects(
      callUnary(alice, 'order', { type: 42, age: 5, idempotencyKey: 'bad-type' }),
      'INVALID_ARGUMENT',
      /type must be one of .*got 42/,
    );
    await assertRejects(
      callUnary(alice, 'order', { type: 'BRIE', age: 121, idempotencyKey: 'old' }),
      'INVALID_ARGUMENT',
      /age must be 1 to 120 months; got 121/,
    );
    await assertRejects(
      callUnary(alice, 'order', { type: 'BRIE', age: 5, quantity: 5000, idempotencyKey: 'many' }),
      'INVALID_ARGUMENT',
      /quantity must be 1 to 1000/,
    );
    await assertRejects(callUnary(alice, 'listOrders', { pageSize: 1000 }), 'INVALID_ARGUMENT', /page_size must be 1 to 100/);
    await assertRejects(callUnary(alice, 'listOrders', { pageToken: 'garbage' }), 'INVALID_ARGUMENT', /page_token is not a token this server issued/);
    await assertRejects(callUnary(alice, 'getOrder', {}), 'INVALID_ARGUMENT', /order_id is required/);
  });

  it('an unknown order is NOT_FOUND', async () => {
    await assertRejects(callUnary(alice, 'getOrder', { orderId: 'ord_nope' }), 'NOT_FOUND', /order "ord_nope" does not exist/);
  });

  it('out of stock is FAILED_PRECONDITION saying what is left', async () => {
    await callUnary(alice, 'order', { type: 'ROQUEFORT', age: 8, quantity: 2, idempotencyKey: 'roq-1' });
    const { details } = await assertRejects(
      callUnary(alice, 'order', { type: 'ROQUEFORT', age: 8, quantity: 2, idempotencyKey: 'roq-2' }),
      'FAILED_PRECONDITION',
      /ROQUEFORT is out of stock: 2 wheel\(s\) asked, 1 left/,
    );
    assert.equal(details?.errorInfo?.reason, 'CHEESE_OUT_OF_STOCK');
    await callUnary(alice, 'order', { type: 'ROQUEFORT', age: 8, quantity: 1, idempotencyKey: 'roq-3' });
  });

  it('ListOrders pages newest first through every order exactly once', async () => {
    for (let i = 0; i < 7; i += 1) await callUnary(bob, 'order', { type: 'CANASTRA', age: 2, idempotencyKey: `page-${i}` });
    const seen: Cheese[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await callUnary<{ orders: Cheese[]; nextPageToken: string }>(bob, 'listOrders', { pageSize: 3, pageToken, type: 'CANASTRA' });
      seen.push(...page.orders);
      pageToken = page.nextPageToken;
      pages += 1;
    } while (pageToken);
    assert.equal(pages, 3);
    assert.deepEqual(
      seen.map((o) => o.idempotencyKey),
      [6, 5, 4, 3, 2, 1, 0].map((i) => `page-${i}`),
    );
  });

  it('WatchOrders streams orders as they are committed, filtered by type', async () => {
    const watch = openServerStream<{ kind: string; order: Cheese }>(alice, 'watchOrders', { type: 'EMMENTAL' });
    const events: { kind: string; order: Cheese }[] = [];
    watch.on('data', (event) => events.push(event));
    watch.on('error', () => undefined);
    await sleep(200);
    await callUnary(bob, 'order', { type: 'BRIE', age: 3, idempotencyKey: 'watch-brie' });
    const placed = await callUnary<Cheese>(bob, 'order', { type: 'EMMENTAL', age: 3, idempotencyKey: 'watch-emmental' });
    for (let i = 0; i < 50 && events.length === 0; i += 1) await sleep(20);
    watch.cancel();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.kind, 'CREATED');
    assert.equal(events[0]!.order.orderId, placed.orderId);
  });

  it('PlaceOrders commits each order of a client stream and summarises failures by index', async () => {
    const summary = await callClientStream<{
      accepted: number;
      rejected: number;
      orders: Cheese[];
      failures: { index: number; code: string; message: string }[];
    }>(alice, 'placeOrders', [
      { type: 'BRIE', age: 5, idempotencyKey: 'batch-1' },
      { type: 'BRIE', age: 500, idempotencyKey: 'batch-2' },
      { type: 'PECORINO', age: 5, idempotencyKey: 'batch-3' },
    ]);
    assert.equal(summary.accepted, 2);
    assert.equal(summary.rejected, 1);
    assert.deepEqual(
      summary.failures.map((f) => [f.index, f.code]),
      [[1, 'INVALID_ARGUMENT']],
    );
    assert.match(summary.failures[0]!.message, /age must be 1 to 120/);
    // The summary lists the committed orders themselves (an empty list would make the read-back below check nothing).
    assert.deepEqual(
      summary.orders.map((o) => [o.type, o.age, o.idempotencyKey]),
      [
        ['BRIE', 5, 'batch-1'],
        ['PECORINO', 5, 'batch-3'],
      ],
    );
    for (const order of summary.orders) assert.deepEqual(await callUnary<Cheese>(alice, 'getOrder', { orderId: order.orderId }), order);
  });

  it('a watch ends with DEADLINE_EXCEEDED when its deadline passes', async () => {
    const controller = new AbortController();
    const done = collectServerStream(alice, 'watchOrders', {}, { signal: controller.signal, deadline: 300 });
    await assertRejects(done, 'DEADLINE_EXCEEDED');
  });
});
