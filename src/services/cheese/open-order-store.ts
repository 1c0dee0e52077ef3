import type { StorageConfig } from '../../config/storage-schema.js';
import type { Logger } from '../../logging/logger.js';
import type { OrderStore, StockLevels } from './order-store.js';
import { describePostgresUrl } from './postgres-faults.js';
import { openPostgresOrderStore } from './postgres-order-store.js';
import { openSqliteOrderStore } from './sqlite-order-store.js';

/** Connection problems (pool, change feed) are logged at most once per this many ms. */
const PROBLEM_LOG_INTERVAL_MS = 10_000;

/** How to open the configured order store, and how to name it in logs. */
export interface OrderStoreChoice {
  open: () => Promise<OrderStore>;
  /** `SQLite data/gatehouse.db` or `PostgreSQL host:5432/db`: never a user name or password. */
  describe: string;
}

/** `storage.url` set: PostgreSQL, shared by every replica; absent: SQLite at `storage.sqlitePath` (one machine). */
export function chooseOrderStore(storage: StorageConfig, stock: StockLevels, logger?: Logger): OrderStoreChoice {
  const url = storage.url;
  if (url === undefined) {
    return {
      describe: `SQLite ${storage.sqlitePath}`,
      open: async () => {
        const store = openSqliteOrderStore({ path: storage.sqlitePath, stock });
        // The file opens lazily: check now, so a file that cannot be opened or written keeps the service NOT_SERVING.
        await store.probe().catch(async (error: unknown) => {
          await store.close();
          throw error;
        });
        return store;
      },
    };
  }
  const describe = `PostgreSQL ${describePostgresUrl(url)}`;
  let lastProblemMs = -Infinity;
  return {
    describe,
    open: () =>
      openPostgresOrderStore({
        url,
        passwordFile: storage.passwordFile,
        stock,
        poolSize: storage.poolSize,
        connectTimeoutMs: storage.connectTimeoutMs,
        statementTimeoutMs: storage.statementTimeoutMs,
        onProblem: (message) => {
          // A restarting server drops every pooled connection at once: one line per interval, not one per connection.
          const nowMs = Date.now();
          if (nowMs - lastProblemMs < PROBLEM_LOG_INTERVAL_MS) return;
          lastProblemMs = nowMs;
          logger?.warn('order store connection problem', { store: describe, problem: message });
        },
      }),
  };
}
