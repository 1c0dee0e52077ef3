import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { CheeseTypeName } from './cheese-types.js';
import { newOrderId } from './order-id.js';
import { StoreFault, type OrderRecord, type OrderStore, type PlaceResult, type StockLevels } from './order-store.js';
import { migrate } from './postgres-migrations.js';
import { toPostgresFault } from './postgres-faults.js';

/** Options for {@link openPostgresOrderStore}. */
export interface PostgresOrderStoreOptions {
  /** `postgres://` URL; what it leaves out comes from PG* variables (node-postgres reads them). */
  url: string;
  /** File with the password (a mounted Secret); read once here. Default: the URL's, PGPASSWORD or PGPASSFILE. */
  passwordFile?: string;
  /** Wheels available per type over the store's life. Every replica must be configured alike. */
  stock: StockLevels;
  /** Most connections in the pool. Default 10. */
  poolSize?: number;
  /** Wait for a connection at most this long, in ms. Default 3000. */
  connectTimeoutMs?: number;
  /** Cancel a statement after this long, in ms. Default 5000. */
  statementTimeoutMs?: number;
  /** Told about pool and change-feed trouble (message only: never the URL). Default: nothing. */
  onProblem?: (message: string) => void;
  /** Clock, in ms since the epoch. Default Date.now. */
  nowMs?: () => number;
}

/** NOTIFY channel place_order() signals on (src/services/cheese/postgres-migrations/0002-place-order.sql). */
const CHANNEL = 'gatehouse_orders';

interface OrderRow {
  seq: string;
  id: string;
  idempotency_key: string;
  ordered_by: string;
  type: CheeseTypeName;
  age_months: number;
  quantity: number;
  ordered_at_ms: string;
}

const SELECT_ORDER = 'SELECT seq, id, idempotency_key, ordered_by, type, age_months, quantity, ordered_at_ms FROM orders';
const QUERIES = Object.freeze({
  place: 'SELECT * FROM place_order($1, $2, $3, $4, $5, $6, $7, $8)',
  byId: `${SELECT_ORDER} WHERE id = $1`,
  listAll: `${SELECT_ORDER} WHERE seq < $1 ORDER BY seq DESC LIMIT $2`,
  listType: `${SELECT_ORDER} WHERE seq < $1 AND type = $2 ORDER BY seq DESC LIMIT $3`,
  afterAll: `${SELECT_ORDER} WHERE seq > $1 ORDER BY seq ASC LIMIT $2`,
  afterType: `${SELECT_ORDER} WHERE seq > $1 AND type = $2 ORDER BY seq ASC LIMIT $3`,
  lastSeq: 'SELECT last_seq FROM order_sequence',
  sold: 'SELECT quantity FROM sold WHERE type = $1',
  writable: "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable",
});

/**
 * Orders in PostgreSQL, shared by every replica. Connects, then applies
 * pending migrations under an advisory lock before resolving; rejects with a
 * StoreFault when the server cannot be reached (the caller retries later).
 *
 * Placement is one statement (a plpgsql function), so it is one round trip and
 * atomic. Watchers learn of commits from every replica through LISTEN/NOTIFY on
 * one dedicated connection that reconnects by itself.
 */
export async function openPostgresOrderStore(options: PostgresOrderStoreOptions): Promise<OrderStore> {
  const now = options.nowMs ?? Date.now;
  const report = options.onProblem ?? (() => undefined);
  const connection: pg.ClientConfig = {
    connectionString: options.passwordFile
      ? withPassword(options.url, readFileSync(options.passwordFile, 'utf8').replace(/\r?\n$/, ''))
      : options.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    statement_timeout: options.statementTimeoutMs ?? 5000,
    // A server that stops answering mid-query (network partition) fails the call instead of holding it.
    query_timeout: (options.statementTimeoutMs ?? 5000) + 1000,
    application_name: 'gatehouse',
    keepAlive: true,
  };
  const pool = new pg.Pool({ ...connection, max: options.poolSize ?? 10, idleTimeoutMillis: 30_000 });
  // Idle connections die when the server restarts; without a listener that error would end the process.
  pool.on('error', (error) => report(`idle PostgreSQL connection lost: ${error.message}`));
  try {
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw toPostgresFault(error);
  }

  const query = async <R extends pg.QueryResultRow>(name: keyof typeof QUERIES, values: unknown[]): Promise<R[]> => {
    try {
      // Named: each pooled connection parses the statement once.
      return (await pool.query<R>({ name, text: QUERIES[name], values })).rows;
    } catch (error) {
      throw toPostgresFault(error);
    }
  };
  const feed = createChangeFeed(connection, report);
  let closed = false;

  const placeOnce = async (order: Parameters<OrderStore['place']>[0]): Promise<PlaceResult> => {
    const [row] = await query<OrderRow & { outcome: string; remaining: number | null }>('place', [
      newOrderId(),
      order.idempotencyKey,
      order.orderedBy,
      order.type,
      order.ageMonths,
      order.quantity,
      options.stock[order.type] ?? 0,
      now(),
    ]);
    if (!row) throw new Error('place_order returned no row');
    switch (row.outcome) {
      case 'created':
        return { kind: 'created', order: toRecord(row) };
      case 'replayed':
        return { kind: 'replayed', order: toRecord(row) };
      case 'key-conflict':
        return { kind: 'key-conflict', order: toRecord(row) };
      case 'out-of-stock':
        return { kind: 'out-of-stock', remaining: row.remaining ?? 0 };
      default:
        throw new Error(`place_order returned outcome ${row.outcome}`);
    }
  };

  return {
    kind: 'postgres',
    async place(order) {
      try {
        return await placeOnce(order);
      } catch (error) {
        // unique_violation: the same key committed by another call a moment ago; everything was rolled back, and
        // now the existing order is found.
        if ((error as { code?: unknown }).code !== '23505') throw error;
        return placeOnce(order);
      }
    },
    async get(id) {
      const [row] = await query<OrderRow>('byId', [id]);
      return row && toRecord(row);
    },
    async list({ limit, beforeSeq, type }) {
      const before = beforeSeq ?? Number.MAX_SAFE_INTEGER;
      const rows = type ? await query<OrderRow>('listType', [before, type, limit]) : await query<OrderRow>('listAll', [before, limit]);
      return rows.map(toRecord);
    },
    async after(afterSeq, type, limit = 100) {
      const rows = type ? await query<OrderRow>('afterType', [afterSeq, type, limit]) : await query<OrderRow>('afterAll', [afterSeq, limit]);
      return rows.map(toRecord);
    },
    async lastSeq() {
      const [row] = await query<{ last_seq: string }>('lastSeq', []);
      return row ? Number(row.last_seq) : 0;
    },
    async remaining(type) {
      const [row] = await query<{ quantity: number }>('sold', [type]);
      return (options.stock[type] ?? 0) - (row?.quantity ?? 0);
    },
    onCommit: (listener) => feed.subscribe(listener),
    async probe() {
      if (closed) throw new StoreFault('unavailable', 'the PostgreSQL order store is closed');
      // Reachable is not enough: a standby or a read-only database answers reads but would refuse every order.
      const [row] = await query<{ writable: boolean }>('writable', []);
      if (!row?.writable) throw new StoreFault('read-only', 'PostgreSQL is read-only (a standby, or default_transaction_read_only)');
    },
    async close() {
      if (closed) return;
      closed = true;
      await feed.close();
      await pool.end();
    },
  };
}

interface ChangeFeed {
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * One LISTEN connection per process, opened when the first watcher subscribes.
 * When it drops, it reconnects with backoff and then wakes every watcher, since
 * notifications sent meanwhile are lost: watchers re-read from their cursor.
 */
function createChangeFeed(connection: pg.ClientConfig, report: (message: string) => void): ChangeFeed {
  const listeners = new Set<() => void>();
  let client: pg.Client | undefined;
  let connecting = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoffMs = 100;
  const wake = () => {
    for (const listener of listeners) listener();
  };

  const connect = async () => {
    if (connecting || client || closed) return;
    connecting = true;
    const candidate = new pg.Client(connection);
    candidate.on('error', () => undefined); // 'end' follows and handles it
    candidate.on('notification', wake);
    candidate.on('end', () => {
      if (client !== candidate) return;
      client = undefined;
      if (!closed) {
        report('the PostgreSQL change feed (LISTEN) was lost; reconnecting');
        schedule();
      }
    });
    try {
      await candidate.connect();
      await candidate.query(`LISTEN ${CHANNEL}`);
      if (closed) {
        await candidate.end();
        return;
      }
      client = candidate;
      backoffMs = 100;
      wake(); // orders committed while no feed was listening
    } catch {
      candidate.end().catch(() => undefined);
      if (!closed) schedule();
    } finally {
      connecting = false;
    }
  };
  const schedule = () => {
    if (retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, backoffMs).unref();
    backoffMs = Math.min(backoffMs * 2, 2000);
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      void connect();
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const open = client;
      client = undefined;
      await open?.end().catch(() => undefined);
    },
  };
}

/**
 * The URL with the password from the file in it: node-postgres lets the
 * connection string's (absent) password win over a separate `password`
 * option, so the file's goes where the driver looks. Never logged.
 */
function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

function toRecord(row: OrderRow): OrderRecord {
  return {
    seq: Number(row.seq),
    id: row.id,
    idempotencyKey: row.idempotency_key,
    orderedBy: row.ordered_by,
    type: row.type,
    ageMonths: row.age_months,
    quantity: row.quantity,
    orderedAtMs: Number(row.ordered_at_ms),
  };
}
