import { z } from 'zod';

/** `postgres://` or `postgresql://`, the URL forms node-postgres understands. */
const postgresUrl = z.string().regex(/^postgres(ql)?:\/\/\S*$/, 'must be a postgres:// or postgresql:// URL');

/**
 * The `storage` section: where orders live. Without `url` they stay in one
 * SQLite file (one machine); with a PostgreSQL URL every replica shares them.
 */
export const StorageSchema = z
  .strictObject({
    /** SQLite database file; its directory is created. Used when `url` is absent. Default ./data/gatehouse.db. */
    sqlitePath: z.string().min(1).default('data/gatehouse.db'),
    /**
     * PostgreSQL URL (`postgres://user@host:5432/db?sslmode=require`); absent keeps orders in SQLite.
     * Parts it leaves out come from the standard PG* variables (PGHOST, PGUSER, PGPASSWORD, PGPASSFILE, ...).
     * Environment: GATEHOUSE_STORAGE__URL. Never logged (only host, port and database are).
     */
    url: postgresUrl.optional(),
    /** File holding the PostgreSQL password (a mounted Secret), read at start; overrides one in the URL. Default none. */
    passwordFile: z.string().min(1).optional(),
    /** Most PostgreSQL connections one process keeps (the pool bound). Default 10. */
    poolSize: z.number().int().min(1).max(1000).default(10),
    /** How long to wait for a PostgreSQL connection before the call gets UNAVAILABLE, in ms. Default 3000. */
    connectTimeoutMs: z.number().int().min(100).default(3000),
    /** Longest one store statement may run before it is cancelled and the call gets UNAVAILABLE, in ms. Default 5000. */
    statementTimeoutMs: z.number().int().min(100).default(5000),
    /** While the store is failing, how often it is checked again (reopened when needed), in ms. Default 1000. */
    probeIntervalMs: z.number().int().min(50).default(1000),
  })
  .prefault({});

/** The validated `storage` section. */
export type StorageConfig = z.infer<typeof StorageSchema>;
