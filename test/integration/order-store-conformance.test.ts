/**
 * One contract, two stores: every case runs against SQLite and against a real
 * PostgreSQL (started by test/helpers/postgres-server.ts). Each case gets a
 * fresh database and opens it through two store instances, as two replicas
 * (or two cluster workers) would.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NewOrder, OrderStore, StockLevels } from '../../src/services/cheese/order-store.js';
import { openPostgresOrderStore } from '../../src/services/cheese/postgres-order-store.js';
import { openSqliteOrderStore } from '../../src/services/cheese/sqlite-order-store.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

/** Opens `replicas` stores on one fresh, empty database. */
type StoreFactory = (stock: StockLevels, replicas: number) => Promise<OrderStore[]>;

interface Backend {
  name: string;
  setUp(): Promise<StoreFactory>;
  tearDown(): Promise<void>;
}

const opened: OrderStore[] = [];

const sqliteBackend = (): Backend => {
  let dir = '';
  let n = 0;
  return {
    name: 'SQLite',
    async setUp() {
      dir = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-'));
      return async (stock, replicas) => {
        const path = join(dir, `orders-${(n += 1)}.db`);
        return Array.from({ length: replicas }, () => openSqliteOrderStore({ path, stock, pollMs: 20 }));
      };
    },
    async tearDown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const postgresBackend = (): Backend => {
  let server: PostgresServer;
  let n = 0;
  return {
    name: 'PostgreSQL',
    async setUp() {
      server = await startPostgres();
      return async (stock, replicas) => {
        const database = `conformance_${(n += 1)}`;
        server.psql(`CREATE DATABASE ${database}`);
        const url = server.url.replace(/\/gatehouse$/, `/${database}`);
        return Promise.all(Array.from({ length: replicas }, () => openPostgresOrderStore({ url, stock, poolSize: 8 })));
      };
    },
    async tearDown() {
      await server.close();
    },
  };
};

const order = (key: string, fields: Partial<NewOrder> = {}): NewOrder => ({
  idempotencyKey: key,
  orderedBy: 'spiffe://test/alice',
  type: 'BRIE',
  ageMonths: 6,
  quantity: 1,
  ...fields,
});

for (const backend of [sqliteBackend(), postgresBackend()]) {
  describe(`OrderStore conformance: ${backend.name}`, () => {
    let open: StoreFactory;
    const stores = async (stock: StockLevels, replicas = 1) => {
      const list = await open(stock, replicas);
      opened.push(...list);
      return list;
    };
    before(async () => {
      open = await backend.setUp();
    });
    after(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await backend.tearDown();
    });

    it('places an order, reads it back, numbers orders from 1 in commit order', async () => {
      const [store] = await stores({ BRIE: 10 });
      const first = await store!.place(order('k1', { quantity: 2, ageMonths: 14 }));
      const second = await store!.place(order('k2'));
      assert.equal(first.kind, 'created');
      assert.equal(second.kind, 'created');
      if (first.kind !== 'created' || second.kind !== 'created') return;
      assert.equal(first.order.seq, 1);
      assert.equal(second.order.seq, 2);
      assert.match(first.order.id, /^ord_[0-9a-f]{20}$/);
      assert.deepEqual(await store!.get(first.order.id), first.order);
      assert.equal(await store!.get('ord_missing'), undefined);
      assert.equal(await store!.lastSeq(), 2);
      assert.equal(await store!.remaining('BRIE'), 7);
      assert.equal(await store!.remaining('PECORINO'), 0);
    });

    it('an idempotency key is unique per orderer across replicas; reuse for another order is a conflict', async () => {
      const [a, b] = await stores({ BRIE: 10 }, 2);
      const placed = await a!.place(order('same'));
      const replayed = await b!.place(order('same'));
      assert.equal(placed.kind, 'created');
      assert.equal(replayed.kind, 'replayed');
      assert.deepEqual(replayed.kind === 'replayed' && replayed.order, placed.kind === 'created' && placed.order);
      const conflict = await b!.place(order('same', { ageMonths: 7 }));
      assert.equal(conflict.kind, 'key-conflict');
      const other = await b!.place(order('same', { orderedBy: 'spiffe://test/bob' }));
      assert.equal(other.kind, 'created');
      assert.equal(await a!.remaining('BRIE'), 8);
    });

    it('the same key placed at once through two replicas makes one order', async () => {
      const [a, b] = await stores({ BRIE: 100 }, 2);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a! : b!).place(order('race'))));
      assert.equal(results.filter((r) => r.kind === 'created').length, 1);
      assert.equal(results.filter((r) => r.kind === 'replayed').length, 19);
      assert.equal(new Set(results.map((r) => r.kind !== 'out-of-stock' && r.order.id)).size, 1);
      assert.equal(await a!.remaining('BRIE'), 99);
    });

    it('stock never goes negative: 60 concurrent orders through two replicas for 25 wheels', async () => {
      const [a, b] = await stores({ ROQUEFORT: 25 }, 2);
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a! : b!).place(order(`stock-${i}`, { type: 'ROQUEFORT' }))),
      );
      assert.equal(results.filter((r) => r.kind === 'created').length, 25);
      const refused = results.filter((r) => r.kind === 'out-of-stock');
      assert.equal(refused.length, 35);
      assert.ok(refused.every((r) => r.kind === 'out-of-stock' && r.remaining === 0));
      assert.equal(await b!.remaining('ROQUEFORT'), 0);
      const partial = await a!.place(order('too-many', { type: 'ROQUEFORT', quantity: 2 }));
      assert.deepEqual(partial, { kind: 'out-of-stock', remaining: 0 });
      // Sequence numbers have no gaps or duplicates, whatever the interleaving.
      const seqs = (await a!.after(0, undefined, 100)).map((o) => o.seq);
      assert.deepEqual(
        seqs,
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
    });

    it('out of stock says how many are left', async () => {
      const [store] = await stores({ CANASTRA: 3 });
      await store!.place(order('c1', { type: 'CANASTRA', quantity: 2 }));
      assert.deepEqual(await store!.place(order('c2', { type: 'CANASTRA', quantity: 2 })), { kind: 'out-of-stock', remaining: 1 });
      assert.equal((await store!.place(order('c3', { type: 'CANASTRA', quantity: 1 }))).kind, 'created');
    });

    it('list pages newest first, filtered by type, and stay stable while new orders arrive', async () => {
      const [store] = await stores({ BRIE: 100, EMMENTAL: 100 });
      for (let i = 0; i < 7; i += 1) await store!.place(order(`p${i}`, { type: i % 2 === 0 ? 'BRIE' : 'EMMENTAL' }));
      const first = await store!.list({ limit: 3 });
      assert.deepEqual(
        first.map((o) => o.idempotencyKey),
        ['p6', 'p5', 'p4'],
      );
      await store!.place(order('late'));
      const second = await store!.list({ limit: 3, beforeSeq: first[2]!.seq });
      assert.deepEqual(
        second.map((o) => o.idempotencyKey),
        ['p3', 'p2', 'p1'],
      );
      const brie = await store!.list({ limit: 10, type: 'BRIE' });
      assert.deepEqual(
        brie.map((o) => o.idempotencyKey),
        ['late', 'p6', 'p4', 'p2', 'p0'],
      );
    });

    it('after() reads in commit order from a cursor, with type filter and limit', async () => {
      const [store] = await stores({ BRIE: 100, PECORINO: 100 });
      for (let i = 0; i < 6; i += 1) await store!.place(order(`a${i}`, { type: i < 3 ? 'BRIE' : 'PECORINO' }));
      assert.deepEqual(
        (await store!.after(2)).map((o) => o.seq),
        [3, 4, 5, 6],
      );
      assert.deepEqual(
        (await store!.after(0, 'PECORINO')).map((o) => o.idempotencyKey),
        ['a3', 'a4', 'a5'],
      );
      assert.deepEqual(
        (await store!.after(0, undefined, 2)).map((o) => o.seq),
        [1, 2],
      );
      assert.deepEqual(await store!.after(6), []);
    });

    it('onCommit tells a replica about orders another replica committed', async () => {
      const [watcher, writer] = await stores({ BRIE: 10 }, 2);
      let woken = 0;
      const unsubscribe = watcher!.onCommit(() => {
        woken += 1;
      });
      await sleep(300); // the change feed connects
      woken = 0;
      await writer!.place(order('feed-1'));
      for (let i = 0; i < 100 && woken === 0; i += 1) await sleep(20);
      unsubscribe();
      assert.ok(woken >= 1, 'the watcher was never told');
      assert.deepEqual(
        (await watcher!.after(0)).map((o) => o.idempotencyKey),
        ['feed-1'],
      );
    });

    it('probe succeeds on a healthy store, and a closed store fails with a StoreFault', async () => {
      const [store] = await stores({ BRIE: 1 });
      await store!.probe();
      await store!.close();
      await assert.rejects(store!.probe(), (error: Error) => error.name === 'StoreFault');
    });
  });
}
