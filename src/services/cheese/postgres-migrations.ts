import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** One versioned migration: `NNNN-name.sql` in src/services/cheese/postgres-migrations/. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const DIRECTORY = fileURLToPath(new URL('./postgres-migrations/', import.meta.url));

/**
 * Advisory lock key shared by every Gatehouse process migrating this database
 * ("gatehous" as a 64-bit number): ten pods starting at once apply each
 * migration exactly once, the others wait and then find nothing to do.
 */
export const MIGRATION_LOCK_KEY = '7449363237540164979';

/** The migrations shipped with this build, oldest first. */
export function loadMigrations(directory: string = DIRECTORY): Migration[] {
  return readdirSync(directory)
    .map((file) => /^(\d{4})-([a-z0-9-]+)\.sql$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ version: Number(match[1]), name: match[2]!, sql: readFileSync(`${directory}/${match[0]}`, 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

/**
 * Applies the migrations this database has not seen, each in its own
 * transaction, under a session advisory lock. Returns the versions applied.
 * A database migrated by a newer build (versions this build does not know) is
 * refused, so an old pod never writes to a schema it does not understand.
 */
export async function migrate(client: pg.ClientBase, migrations: readonly Migration[] = loadMigrations()): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...applied].filter((version) => !known.has(version));
    if (unknown.length > 0) throw new Error(`the database has migrations this build does not know (${unknown.join(', ')}): run a newer Gatehouse`);
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      done.push(migration.version);
    }
    return done;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
}
