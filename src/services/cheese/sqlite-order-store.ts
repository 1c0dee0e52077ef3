import Database from 'better-sqlite3';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CheeseTypeName } from './cheese-types.js';
import { newOrderId } from './order-id.js';
import {
  StoreFault,
  type NewOrder,
  type OrderRecord,
  type OrderStore,
  type PlaceResult,
  type StockLevels,
  type StoreFaultKind,
} from './order-store.js';

/** Options for {@link openSqliteOrderStore}. */
export interface SqliteOrderStoreOptions {
  /** SQLite file; its directory is created. `:memory:` is for unit tests only. */
  path: string;
  /** Wheels available per type over the store's life. */
  stock: StockLevels;
  /** How often watchers look for orders other processes (cluster workers) committed, in ms. Default 250. */
  pollMs?: number;
  /** Clock, in ms since the epoch. Default Date.now. */
  nowMs?: () => number;
}

interface OrderRow {
  seq: number;
  id: string;
  idempotency_key: string;
  ordered_by: string;
  type: CheeseTypeName;
  age_months: number;
  quantity: number;
  ordered_at_ms: number;
}

/** One open connection with its prepared statements. */
interface Handle {
  db: Database.Database;
  place(order: NewOrder): PlaceResult;
  byId: Database.Statement<[string], OrderRow>;
  listAll: Database.Statement<[number, number], OrderRow>;
  listType: Database.Statement<[number, string, number], OrderRow>;
  afterAll: Database.Statement<[number, number], OrderRow>;
  afterType: Database.Statement<[number, string, number], OrderRow>;
  maxSeq: Database.Statement<[], { seq: number | null }>;
  remaining(type: CheeseTypeName): number;
  dataVersion(): number;
  probe: Database.Statement<[number]>;
}

/**
 * Orders in one SQLite file: the embedded default for one machine (cluster
 * workers on that machine share the file). WAL with synchronous=FULL: a commit
 * has reached the disk before `place` resolves, so an acknowledged order
 * survives kill -9 and power loss.
 *
 * Faults (full disk, read-only file, damaged pages, a file that cannot be
 * opened) reject with a StoreFault; after one that may have broken the
 * connection it is closed, and the next call or `probe` opens the file again,
 * so the store recovers without a restart once the cause is gone.
 */
export function openSqliteOrderStore(options: SqliteOrderStoreOptions): OrderStore {
  const now = options.nowMs ?? Date.now;
  const pollMs = options.pollMs ?? 250;
  let handle: Handle | undefined;
  let closed = false;
  const listeners = new Set<() => void>();
  let pollTimer: NodeJS.Timeout | undefined;
  let seenVersion = -1;

  const open = (): Handle => {
    if (closed) throw new StoreFault('unavailable', 'the SQLite order store is closed');
    if (handle) return handle;
    try {
      handle = openHandle(options, now);
      return handle;
    } catch (error) {
      const fault = toStoreFault(error);
      // SQLite says only "unable to open" when the directory is read-only (WAL needs its -shm file there).
      if (fault.kind === 'unavailable' && options.path !== ':memory:' && !writable(dirname(options.path))) {
        throw new StoreFault('read-only', `SQLite: ${dirname(options.path)} is not writable (${fault.message})`, { cause: error });
      }
      throw fault;
    }
  };
  /** Runs `work` on the open connection; a fault that may have broken it closes it for a clean reopen. */
  const run = <T>(work: (h: Handle) => T): T => {
    const h = open();
    try {
      return work(h);
    } catch (error) {
      const fault = toStoreFault(error);
      if (fault.kind !== 'busy' && fault.kind !== 'disk-full') drop();
      throw fault;
    }
  };
  const drop = () => {
    const h = handle;
    handle = undefined;
    try {
      h?.db.close();
    } catch {
      /* closing a broken connection may fail too; it is gone either way */
    }
  };
  const notify = () => {
    for (const listener of listeners) listener();
  };
  // Other processes' commits: PRAGMA data_version changes when another connection commits.
  const poll = () => {
    try {
      const version = open().dataVersion();
      if (version !== seenVersion) {
        seenVersion = version;
        notify();
      }
    } catch {
      /* a failing store is reported by the calls themselves */
    }
  };

  return {
    kind: 'sqlite',
    place: async (order) => {
      const result = run((h) => h.place(order));
      if (result.kind === 'created') notify();
      return result;
    },
    get: async (id) => {
      const row = run((h) => h.byId.get(id));
      return row && toRecord(row);
    },
    list: async ({ limit, beforeSeq, type }) => {
      const before = beforeSeq ?? Number.MAX_SAFE_INTEGER;
      return run((h) => (type ? h.listType.all(before, type, limit) : h.listAll.all(before, limit))).map(toRecord);
    },
    after: async (afterSeq, type, limit = 100) =>
      run((h) => (type ? h.afterType.all(afterSeq, type, limit) : h.afterAll.all(afterSeq, limit))).map(toRecord),
    lastSeq: async () => run((h) => h.maxSeq.get()?.seq ?? 0),
    remaining: async (type) => run((h) => h.remaining(type)),
    onCommit(listener) {
      listeners.add(listener);
      pollTimer ??= setInterval(poll, pollMs).unref();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && pollTimer) {
          clearInterval(pollTimer);
          pollTimer = undefined;
        }
      };
    },
    probe: async () => {
      // A real write (and a read of every page's header chain): proves the file can be opened, read and written.
      run((h) => {
        const check = h.db.pragma('quick_check(1)', { simple: true });
        if (check !== 'ok') throw new StoreFault('corrupt', `SQLite quick_check: ${String(check).slice(0, 200)}`);
        h.probe.run(now());
      });
    },
    close: async () => {
      closed = true;
      if (pollTimer) clearInterval(pollTimer);
      drop();
    },
  };
}

function openHandle(options: SqliteOrderStoreOptions, now: () => number): Handle {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  try {
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
      CREATE TABLE IF NOT EXISTS store_probe (id INTEGER PRIMARY KEY, probed_at_ms INTEGER NOT NULL);
    `);
    const byKey = db.prepare<[string, string], OrderRow>('SELECT * FROM orders WHERE ordered_by = ? AND idempotency_key = ?');
    const soldOf = db.prepare<[string], { quantity: number }>('SELECT quantity FROM sold WHERE type = ?');
    const addSold = db.prepare(
      'INSERT INTO sold (type, quantity) VALUES (?, ?) ON CONFLICT (type) DO UPDATE SET quantity = quantity + excluded.quantity',
    );
    const insert = db.prepare<[string, string, string, string, number, number, number], OrderRow>(
      'INSERT INTO orders (id, idempotency_key, ordered_by, type, age_months, quantity, ordered_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
    );
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
    const dataVersion = db.prepare<[], { data_version: number }>('PRAGMA data_version');
    return {
      db,
      place: (order) => placeTx.immediate(order),
      byId: db.prepare('SELECT * FROM orders WHERE id = ?'),
      listAll: db.prepare('SELECT * FROM orders WHERE seq < ? ORDER BY seq DESC LIMIT ?'),
      listType: db.prepare('SELECT * FROM orders WHERE seq < ? AND type = ? ORDER BY seq DESC LIMIT ?'),
      afterAll: db.prepare('SELECT * FROM orders WHERE seq > ? ORDER BY seq ASC LIMIT ?'),
      afterType: db.prepare('SELECT * FROM orders WHERE seq > ? AND type = ? ORDER BY seq ASC LIMIT ?'),
      maxSeq: db.prepare('SELECT MAX(seq) AS seq FROM orders'),
      remaining,
      dataVersion: () => dataVersion.get()!.data_version,
      probe: db.prepare(
        'INSERT INTO store_probe (id, probed_at_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at_ms = excluded.probed_at_ms',
      ),
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** SQLite result codes (better-sqlite3's `SqliteError.code`) as faults a client can act on; anything else stays a bug. */
export function toStoreFault(error: unknown): StoreFault {
  if (error instanceof StoreFault) return error;
  const code = (error as { code?: unknown })?.code;
  const kind = typeof code === 'string' ? sqliteFaultKind(code) : undefined;
  if (kind === undefined) {
    // better-sqlite3 throws a TypeError on a connection closed under it: the next call reopens.
    if (error instanceof TypeError && /database connection is not open/.test(error.message))
      return new StoreFault('unavailable', error.message, { cause: error });
    throw error;
  }
  return new StoreFault(kind, `SQLite ${String(code)}: ${(error as Error).message}`.slice(0, 300), { cause: error });
}

function sqliteFaultKind(code: string): StoreFaultKind | undefined {
  if (code === 'SQLITE_FULL') return 'disk-full';
  if (code.startsWith('SQLITE_READONLY')) return 'read-only';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'corrupt';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code === 'SQLITE_PROTOCOL' ||
    code === 'SQLITE_PERM' ||
    code === 'SQLITE_NOLFS'
  )
    return 'unavailable';
  return undefined;
}

function writable(directory: string): boolean {
  try {
    accessSync(directory, constants.W_OK);
    return true;
  } catch {
    return false;
  }
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
