import type { GatehouseError } from '../../errors.js';
import type { Logger } from '../../logging/logger.js';
import { StoreFault, type OrderStore } from './order-store.js';
import { storeFaultError } from './store-fault-status.js';

/** Options for {@link createStoreSupervisor}. */
export interface StoreSupervisorOptions {
  /** Opens the store (connect, migrate); rejects when it cannot yet. Called again until it succeeds. */
  open: () => Promise<OrderStore>;
  /** Where the store is, for logs: never credentials (e.g. `PostgreSQL db:5432/gatehouse`). */
  describe: string;
  /** While failing, how often the store is checked (or opened) again, in ms. */
  probeIntervalMs: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** Keeps one order store open and says whether it can serve. */
export interface StoreSupervisor {
  /** First open attempt; when it fails the supervisor keeps retrying in the background and resolves anyway. */
  start(): Promise<void>;
  /**
   * Runs `work` on the store. A StoreFault becomes the client's status
   * (UNAVAILABLE / RESOURCE_EXHAUSTED with RetryInfo, or FAILED_PRECONDITION)
   * and turns the supervisor NOT serving until a probe succeeds.
   */
  use<T>(work: (store: OrderStore) => Promise<T>): Promise<T>;
  /** True while the last open, call or probe succeeded. */
  readonly serving: boolean;
  /** Called on every change of `serving`. */
  onServingChange(listener: (serving: boolean) => void): void;
  stop(): Promise<void>;
}

/**
 * The store's lifecycle and health: opening with retries, turning NOT_SERVING
 * on the first fault (logged once per outage, not per call), probing every
 * `probeIntervalMs` until the store can write again, then SERVING by itself.
 */
export function createStoreSupervisor(options: StoreSupervisorOptions): StoreSupervisor {
  let store: OrderStore | undefined;
  let serving = false;
  let stopped = false;
  let probeTimer: NodeJS.Timeout | undefined;
  let lastProblem = '';
  const listeners: ((serving: boolean) => void)[] = [];

  const setServing = (value: boolean) => {
    if (serving === value) return;
    serving = value;
    for (const listener of listeners) listener(value);
  };
  const fail = (error: unknown, during: string) => {
    const problem = error instanceof Error ? error.message : String(error);
    // Once per outage and per new kind of problem: a store that is down must not flood the log with a line per call.
    if (serving || problem !== lastProblem) {
      options.logger?.error('order store is failing; CheeseService is NOT_SERVING until it recovers', {
        store: options.describe,
        during,
        kind: error instanceof StoreFault ? error.kind : 'open',
        problem,
      });
    }
    lastProblem = problem;
    setServing(false);
    schedule();
  };
  const recovered = () => {
    if (!serving && lastProblem !== '') options.logger?.info('order store recovered; CheeseService is SERVING', { store: options.describe });
    lastProblem = '';
    setServing(true);
  };
  const attempt = async () => {
    if (stopped) return;
    try {
      if (store === undefined) {
        const opened = await options.open();
        if (stopped) {
          await opened.close();
          return;
        }
        store = opened;
      } else {
        await store.probe();
      }
      recovered();
    } catch (error) {
      fail(error, store === undefined ? 'open' : 'probe');
    }
  };
  const schedule = () => {
    if (probeTimer || stopped) return;
    probeTimer = setTimeout(() => {
      probeTimer = undefined;
      void attempt();
    }, options.probeIntervalMs).unref();
  };

  return {
    start: attempt,
    async use(work) {
      if (store === undefined) {
        throw storeFaultError(new StoreFault('unavailable', 'the order store is not open yet'));
      }
      try {
        return await work(store);
      } catch (error) {
        if (!(error instanceof StoreFault)) throw error;
        // A busy store (a lock, a statement timeout) is still there: the call is retried, the service stays SERVING.
        if (error.kind !== 'busy') fail(error, 'call');
        throw storeFaultError(error) satisfies GatehouseError;
      }
    },
    get serving() {
      return serving;
    },
    onServingChange(listener) {
      listeners.push(listener);
    },
    async stop() {
      stopped = true;
      if (probeTimer) clearTimeout(probeTimer);
      const open = store;
      store = undefined;
      await open?.close();
    },
  };
}
