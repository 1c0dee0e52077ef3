import { setTimeout as sleep } from 'node:timers/promises';
import { status as Status } from '@grpc/grpc-js';
import { quoteValue } from '../../../interceptors/bounded-text.js';
import { GatehouseError, failedPrecondition, invalidField, notFound } from '../../errors.js';
import type { Cheese } from '../../generated/cheesefarm/v1/Cheese.js';
import type { CheeseRequest__Output } from '../../generated/cheesefarm/v1/CheeseRequest.js';
import type { PlaceOrderFailure } from '../../generated/cheesefarm/v1/PlaceOrderFailure.js';
import type { WatchOrdersRequest__Output } from '../../generated/cheesefarm/v1/WatchOrdersRequest.js';
import type { CheeseServiceHandlers } from '../../generated/cheesefarm/v1/CheeseService.js';
import type { ServiceName } from '../../generated/services.js';
import { clientStream, serverStream, unary, type CallContext } from '../../handler.js';
import type { Logger } from '../../logging/logger.js';
import { loadServiceDefinition } from '../../proto/load.js';
import type { HostedService } from '../hosted-service.js';
import { isCheeseType, type CheeseTypeName } from './cheese-types.js';
import type { OrderRecord, OrderStore } from './order-store.js';
import { createStoreSupervisor } from './store-supervisor.js';
import { validateOrderRequest } from './validate-order.js';

/** Fully-qualified name of the service. */
export const CHEESE_SERVICE_NAME = 'cheesefarm.v1.CheeseService' satisfies ServiceName;

/** Options for {@link createCheeseService}. */
export interface CheeseServiceOptions {
  /** Opens the order store (src/services/cheese/open-order-store.ts picks SQLite or PostgreSQL from config). */
  openStore: () => Promise<OrderStore>;
  /** Where the store is, for logs; never credentials. */
  describeStore: string;
  /** While the store fails, how often it is checked again, in ms. Default 1000. */
  probeIntervalMs?: number;
  /**
   * Longest a watcher waits without a change-feed wake-up before reading again
   * anyway, in ms: a safety net, the feed normally wakes it at once. Default 5000.
   */
  watchPollMs?: number;
  logger?: Logger;
}

/** Identity recorded on orders from callers without a client certificate (insecure or TLS-only mode). */
const ANONYMOUS = 'anonymous';
/** Orders read per query while a watcher catches up. */
const WATCH_BATCH = 100;

/**
 * The cheese farm: durable, idempotent orders with stock, on an OrderStore.
 * Store faults reach clients as codes they can act on (never INTERNAL) and
 * turn the service NOT_SERVING until the store recovers by itself.
 */
export function createCheeseService(options: CheeseServiceOptions): HostedService {
  const supervisor = createStoreSupervisor({
    open: options.openStore,
    describe: options.describeStore,
    probeIntervalMs: options.probeIntervalMs ?? 1000,
    logger: options.logger,
  });
  const watchPollMs = options.watchPollMs ?? 5000;

  const placeOne = async (request: CheeseRequest__Output, ctx: CallContext): Promise<Cheese> => {
    const order = validateOrderRequest(request, ctx.peer?.identity ?? ANONYMOUS);
    const result = await supervisor.use((store) => store.place(order));
    switch (result.kind) {
      case 'created':
      case 'replayed':
        return toCheese(result.order);
      case 'key-conflict':
        throw new GatehouseError(
          'IDEMPOTENCY_KEY_REUSED',
          `idempotency_key "${order.idempotencyKey}" was already used for order ${result.order.id} (${result.order.quantity} x ${result.order.type}, ${result.order.ageMonths} months); use a new key for a different order`,
        );
      case 'out-of-stock':
        throw failedPrecondition('CHEESE_OUT_OF_STOCK', `${order.type} is out of stock: ${order.quantity} wheel(s) asked, ${result.remaining} left`);
    }
  };

  // The generated handler type checks every method's name, request and reply against the proto.
  const implementation: CheeseServiceHandlers = {
    Order: unary(placeOne),

    GetOrder: unary(async (request) => {
      if (!request.orderId) throw invalidField('order_id', 'is required');
      const order = await supervisor.use((store) => store.get(request.orderId));
      if (!order) throw notFound('ORDER_NOT_FOUND', `order ${quoteValue(request.orderId)} does not exist`);
      return toCheese(order);
    }),

    ListOrders: unary(async (request) => {
      const pageSize = request.pageSize === 0 ? 20 : request.pageSize;
      if (pageSize < 1 || pageSize > 100) throw invalidField('page_size', `must be 1 to 100; got ${request.pageSize}`);
      const type = optionalType(request.type, 'type');
      const beforeSeq = request.pageToken ? decodePageToken(request.pageToken) : undefined;
      // One extra row tells whether another page exists without a COUNT query.
      const rows = await supervisor.use((store) => store.list({ limit: pageSize + 1, beforeSeq, type }));
      const page = rows.slice(0, pageSize);
      const last = page[page.length - 1];
      return { orders: page.map(toCheese), nextPageToken: rows.length > pageSize && last ? encodePageToken(last.seq) : '' };
    }),

    WatchOrders: serverStream(async (request, ctx, send) => {
      const type = optionalType(request.type, 'type');
      const resumeAfter = resumePoint(request);
      let wake: () => void = () => undefined;
      let changed = false;
      // Subscribe before reading the position, so a commit in between still wakes this watcher.
      const unsubscribe = await supervisor.use(async (store) =>
        store.onCommit(() => {
          changed = true;
          wake();
        }),
      );
      try {
        let cursor = resumeAfter ?? (await supervisor.use((store) => store.lastSeq()));
        while (!ctx.signal.aborted) {
          changed = false;
          let batch: OrderRecord[];
          do {
            const from = cursor;
            batch = await supervisor.use((store) => store.after(from, type, WATCH_BATCH));
            for (const order of batch) {
              cursor = order.seq;
              await send({ kind: 'CREATED', order: toCheese(order) });
            }
          } while (batch.length === WATCH_BATCH && !ctx.signal.aborted);
          if (changed) continue;
          const woken = new Promise<void>((resolve) => {
            wake = resolve;
          });
          await Promise.race([woken, sleep(watchPollMs, undefined, { signal: ctx.signal }).catch(() => undefined)]);
        }
      } finally {
        unsubscribe();
      }
    }),

    PlaceOrders: clientStream(async (requests, ctx) => {
      const orders: Cheese[] = [];
      const failures: PlaceOrderFailure[] = [];
      let index = 0;
      for await (const request of requests) {
        try {
          orders.push(await placeOne(request, ctx));
        } catch (error) {
          if (!(error instanceof GatehouseError) || error.code === Status.INTERNAL) throw error;
          failures.push({ index, idempotencyKey: request.idempotencyKey, code: Status[error.code], message: error.message });
        }
        index += 1;
      }
      return { accepted: orders.length, rejected: failures.length, orders, failures };
    }),
  };

  return {
    name: CHEESE_SERVICE_NAME,
    definition: loadServiceDefinition(CHEESE_SERVICE_NAME),
    implementation,
    start: () => supervisor.start(),
    watchServing(listener) {
      supervisor.onServingChange(listener);
      return supervisor.serving;
    },
    stop: () => supervisor.stop(),
  };
}

function optionalType(value: unknown, field: string): CheeseTypeName | undefined {
  if (value === 'CHEESE_TYPE_UNSPECIFIED' || value === 0) return undefined;
  if (!isCheeseType(value)) throw invalidField(field, `is not a known cheese type: ${quoteValue(value)}`);
  return value;
}

/** `after_sequence` when the client set it (proto3 optional: 0 is "from the start", unset is "from now"). */
function resumePoint(request: WatchOrdersRequest__Output): number | undefined {
  if (request._afterSequence !== 'afterSequence' || request.afterSequence === undefined) return undefined;
  const value = Number(request.afterSequence);
  if (!Number.isSafeInteger(value)) throw invalidField('after_sequence', 'must be a Cheese.sequence this service sent');
  return value;
}

function toCheese(order: OrderRecord): Cheese {
  return {
    age: order.ageMonths,
    type: order.type,
    orderId: order.id,
    quantity: order.quantity,
    orderedAt: { seconds: String(Math.floor(order.orderedAtMs / 1000)), nanos: (order.orderedAtMs % 1000) * 1e6 },
    orderedBy: order.orderedBy,
    idempotencyKey: order.idempotencyKey,
    sequence: String(order.seq),
  };
}

/** Page tokens are opaque to clients: a versioned, base64url position. */
function encodePageToken(beforeSeq: number): string {
  return Buffer.from(`v1:${beforeSeq}`).toString('base64url');
}

function decodePageToken(token: string): number {
  const match = /^v1:(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw invalidField('page_token', 'is not a token this server issued; pass next_page_token from the previous reply unchanged');
  return Number(match[1]);
}
