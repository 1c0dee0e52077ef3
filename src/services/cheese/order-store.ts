import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CheeseTypeName } from './cheese-types.js';

/** One committed order. */
export interface OrderRecord {
  /** Monotonic position in the table: paging and watching use it. */
  seq: number;
  id: string;
  idempotencyKey: string;
  orderedBy: string;
  type: CheeseTypeName;
  ageMonths: number;
  quantity: number;
  orderedAtMs: number;
}

/** What a client asks for; validated before it reaches the store. */
export interface NewOrder {
  idempotencyKey: string;
  orderedBy: string;
  type: CheeseTypeName;
  ageMonths: number;
  quantity: number;
}

/** Outcome of {@link OrderStore.place}. */
export type PlaceResult =
  | { kind: 'created'; order: OrderRecord }
  | { kind: 'replayed'; order: OrderRecord }
  | { kind: 'key-conflict'; order: OrderRecord }
  | { kind: 'out-of-stock'; remaining: number };

/** Options for {@link openOrderStore}. */
export interface OrderStoreOptions {
  /** SQLite file; its directory is created. `:memory:` is for unit tests only. */
  path: string;
  /** Wheels available per type over the store's life; sold wheels are subtracted. Types absent have none. */
  stock: Readonly<Partial<Record<CheeseTypeName, number>>>;
  /** Clock, in ms since the epoch. Default Date.now. */
  nowMs?: () => number;
}

/** Durable cheese orders in one SQLite file. */
export interface OrderStore {
  /** Places an order atomically: idempotency check, stock check and insert in one transaction. */
  place(order: NewOrder): PlaceResult;
  get(id: string): OrderRecord | undefined;
  /** Newest first; `beforeSeq` continues a previous page. */
  list(options: { limit: number; beforeSeq?: number; type?: CheeseTypeName }): OrderRecord[];
  /** Orders committed after `afterSeq`, oldest first (watchers tail the table, so other processes' orders show too). */
  after(afterSeq: number, type?: CheeseTypeName, limit?: number): OrderRecord[];
  /** The newest seq, 0 when empty. */
  lastSeq(): number;
  /** Remaining wheels of a type. */
  remaining(type: CheeseTypeName): number;
  close(): void;
}

interface OrderRow {
  seq: number; id: string; idempotency_key: string; ordered_by: string; type: CheeseTypeName;
  age_months: number; quantity: number; ordered_at_ms: number;
}

/**
 * Opens (creating if needed) the order database. WAL with synchronous=FULL:
 * a commit has reached the disk before `place` returns, so an order the client
 * saw acknowledged survives kill -9 and power loss.
 */
export function openOrderStore(options: OrderStoreOptions): OrderStore {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000'); // several worker processes share the file
  db.exec(`
    CREATE TABLE IF NOT EXISTS orders (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      idempotency_key TEXT NOT NULL,
      ordered_by TEXT NOT NULL,
      type TEXT NOT NULL,
      age_months INTEGER NOT NULL,
      quantity INTEGER NOT NULL,
      ordered_at_ms INTEGER NOT NULL,
      UNIQUE (ordered_by, idempotency_key)
    );
    CREATE INDEX IF NOT EXISTS orders_by_type ON orders (type, seq);
    CREATE TABLE IF NOT EXISTS sold (type TEXT PRIMARY KEY, quantity INTEGER NOT NULL);
  `);
  const now = options.nowMs ?? Date.now;
  const byKey = db.prepare<[string, string], OrderRow>('SELECT * FROM orders WHERE ordered_by = ? AND idempotency_key = ?');
  const byId = db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE id = ?');
  const soldOf = db.prepare<[string], { quantity: number }>('SELECT quantity FROM sold WHERE type = ?');
  const addSold = db.prepare('INSERT INTO sold (type, quantity) VALUES (?, ?) ON CONFLICT (type) DO UPDATE SET quantity = quantity + excluded.quantity');
  const insert = db.prepare<[string, string, string, string, number, number, number], OrderRow>(
    'INSERT INTO orders (id, idempotency_key, ordered_by, type, age_months, quantity, ordered_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *');
  const listAll = db.prepare<[number, number], OrderRow>('SELECT * FROM orders WHERE seq < ? ORDER BY seq DESC LIMIT ?');
  const listType = db.prepare<[number, string, number], OrderRow>('SELECT * FROM orders WHERE seq < ? AND type = ? ORDER BY seq DESC LIMIT ?');
  const afterAll = db.prepare<[number, number], OrderRow>('SELECT * FROM orders WHERE seq > ? ORDER BY seq ASC LIMIT ?');
  const afterType = db.prepare<[number, string, number], OrderRow>('SELECT * FROM orders WHERE seq > ? AND type = ? ORDER BY seq ASC LIMIT ?');
  const maxSeq = db.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM orders');

  const remaining = (type: CheeseTypeName) => (options.stock[type] ?? 0) - (soldOf.get(type)?.quantity ?? 0);

  // IMMEDIATE takes the write lock first, so two processes cannot both pass the stock check.
  const placeTx = db.transaction((order: NewOrder): PlaceResult => {
    const existing = byKey.get(order.orderedBy, order.idempotencyKey);
    if (existing) {
      const same = existing.type === order.type && existing.age_months === order.ageMonths && existing.quantity === order.quantity;
      return { kind: same ? 'replayed' : 'key-conflict', order: toRecord(existing) };
    }
    const left = remaining(order.type);
    if (left < order.quantity) return { kind: 'out-of-stock', remaining: Math.max(0, left) };
    addSold.run(order.type, order.quantity);
    const row = insert.get(newOrderId(), order.idempotencyKey, order.orderedBy, order.type, order.ageMonths, order.quantity, now());
    return { kind: 'created', order: toRecord(row!) };
  });

  return {
    place: (order) => placeTx.immediate(order),
    get: (id) => {
      const row = byId.get(id);
      return row && toRecord(row);
    },
    list: ({ limit, beforeSeq, type }) => {
      const before = beforeSeq ?? Number.MAX_SAFE_INTEGER;
      return (type ? listType.all(before, type, limit) : listAll.all(before, limit)).map(toRecord);
    },
    after: (afterSeq, type, limit = 100) => (type ? afterType.all(afterSeq, type, limit) : afterAll.all(afterSeq, limit)).map(toRecord),
    lastSeq: () => maxSeq.get()?.seq ?? 0,
    remaining,
    close: () => db.close(),
  };
}

function newOrderId(): string {
  return `ord_${randomBytes(10).toString('hex')}`;
}

function toRecord(row: OrderRow): OrderRecord {
  return {
    seq: row.seq,
    id: row.id,
    idempotencyKey: row.idempotency_key,
    orderedBy: row.ordered_by,
    type: row.type,
    ageMonths: row.age_months,
    quantity: row.quantity,
    orderedAtMs: row.ordered_at_ms,
  };
}
