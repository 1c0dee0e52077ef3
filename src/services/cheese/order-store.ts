import type { CheeseTypeName } from './cheese-types.js';

/** One committed order. */
export interface OrderRecord {
  /** Position in commit order across every replica, from 1: paging, watching and resuming use it. */
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

/** Wheels available per type over the store's life; sold wheels are subtracted. Types absent have none. */
export type StockLevels = Readonly<Partial<Record<CheeseTypeName, number>>>;

/**
 * Durable cheese orders: the one contract both stores keep
 * (src/services/cheese/sqlite-order-store.ts, postgres-order-store.ts), checked
 * case by case against both by test/integration/order-store-conformance.test.ts.
 *
 * Every method rejects with a {@link StoreFault} when the store cannot answer
 * (down, full, read-only, damaged); anything else it throws is a bug.
 */
export interface OrderStore {
  /** `sqlite` or `postgres`, for logs and metrics. */
  readonly kind: string;
  /**
   * Places an order atomically: the idempotency check (unique per `orderedBy`
   * across every process), the stock check and the insert commit together, so
   * stock never goes negative whatever the concurrency. Resolves once durable.
   */
  place(order: NewOrder): Promise<PlaceResult>;
  get(id: string): Promise<OrderRecord | undefined>;
  /** Newest first; `beforeSeq` continues a previous page (pages are stable: new orders never shift them). */
  list(options: { limit: number; beforeSeq?: number; type?: CheeseTypeName }): Promise<OrderRecord[]>;
  /**
   * Orders with `seq > afterSeq`, oldest first. Sequence order is commit order:
   * once a reader has seen `seq = n`, no order with a smaller seq can appear
   * later, so a cursor never skips one.
   */
  after(afterSeq: number, type?: CheeseTypeName, limit?: number): Promise<OrderRecord[]>;
  /** The newest seq, 0 when empty. */
  lastSeq(): Promise<number>;
  /** Remaining wheels of a type. */
  remaining(type: CheeseTypeName): Promise<number>;
  /**
   * Calls `listener` soon after any process commits an order, and after a lost
   * change feed is restored (it may have missed some): a hint to read `after`
   * again, never the orders themselves. Returns the unsubscribe function.
   */
  onCommit(listener: () => void): () => void;
  /** Resolves when the store can take writes now (reopening it if needed); rejects with a StoreFault otherwise. */
  probe(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Why a store could not answer, as a client can act on it:
 * - `unavailable`: down, restarting, unreachable, cannot be opened; retry shortly.
 * - `busy`: locked, timed out or too many connections; retry soon.
 * - `disk-full`: no space to write; retry once space is freed.
 * - `read-only`: cannot write now (read-only file or standby); retry later.
 * - `corrupt`: the data is damaged; retrying cannot help until an operator repairs it.
 */
export type StoreFaultKind = 'unavailable' | 'busy' | 'disk-full' | 'read-only' | 'corrupt';

/** A store that cannot answer now. The message is for logs (never credentials); clients get a mapped status. */
export class StoreFault extends Error {
  override readonly name = 'StoreFault';
  constructor(
    readonly kind: StoreFaultKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
