/**
 * What only the PostgreSQL store has: migrations under an advisory lock,
 * credentials from a file or PG* variables, and logs without them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageSchema } from '../../src/config/storage-schema.js';
import { createLogger } from '../../src/logging/logger.js';
import { createCheeseService } from '../../src/services/cheese/cheese-service.js';
import { chooseOrderStore } from '../../src/services/cheese/open-order-store.js';
import { loadMigrations } from '../../src/services/cheese/postgres-migrations.js';
import { openPostgresOrderStore } from '../../src/services/cheese/postgres-order-store.js';
import type { OrderStore } from '../../src/services/cheese/order-store.js';
import { freePort } from '../helpers/free-port.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

describe('PostgreSQL order store', () => {
  let pg: PostgresServer;
  let dir: string;
  const stores: OrderStore[] = [];
  before(async () => {
    pg = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-store-'));
    // A role that must give its password (test/helpers/postgres-server.ts trusts only the superuser), owning its database.
    pg.psql("CREATE ROLE orders_app LOGIN PASSWORD 's3cret-Pa55'");
    pg.psql('CREATE DATABASE app OWNER orders_app');
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await pg.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ten processes starting at once apply each migration exactly once', async () => {
    pg.psql('CREATE DATABASE migrate_race');
    const url = pg.url.replace(/\/gatehouse$/, '/migrate_race');
    const opened = await Promise.all(Array.from({ length: 10 }, () => openPostgresOrderStore({ url, stock: { BRIE: 5 }, poolSize: 2 })));
    stores.push(...opened);
    const applied = pg.psql('SELECT version FROM schema_migrations ORDER BY version', 'migrate_race').trim().split(/\s+/).map(Number);
    assert.deepEqual(
      applied,
      loadMigrations().map((m) => m.version),
    );
    assert.ok(applied.length >= 2);
    // And the schema works from every one of them.
    const results = await Promise.all(
      opened.map((store, i) => store.place({ idempotencyKey: `m${i}`, orderedBy: 'x', type: 'BRIE', ageMonths: 2, quantity: 1 })),
    );
    assert.equal(results.filter((r) => r.kind === 'created').length, 5);
  });

  it('takes the password from storage.passwordFile; the URL carries none', async () => {
    const url = `postgres://orders_app@127.0.0.1:${pg.port}/app`;
    const wrong = join(dir, 'wrong-password');
    writeFileSync(wrong, 'not-it\n');
    await assert.rejects(openPostgresOrderStore({ url, passwordFile: wrong, stock: {} }), /password authentication failed/);
    const passwordFile = join(dir, 'pg-password');
    writeFileSync(passwordFile, 's3cret-Pa55\n');
    const store = await openPostgresOrderStore({ url, passwordFile, stock: {} });
    stores.push(store);
    await store.probe();
  });

  it('never writes the password to a log line while the database is unreachable', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    const deadPort = await freePort();
    const storage = StorageSchema.parse({
      url: `postgres://orders_app:s3cret-Pa55@127.0.0.1:${deadPort}/gatehouse`,
      probeIntervalMs: 50,
      connectTimeoutMs: 200,
    });
    const choice = chooseOrderStore(storage, {}, logger);
    const service = createCheeseService({ openStore: choice.open, describeStore: choice.describe, probeIntervalMs: storage.probeIntervalMs, logger });
    await service.start();
    assert.equal(
      service.watchServing?.(() => undefined),
      false,
    );
    await sleep(300);
    await service.stop();
    assert.ok(lines.length > 0, 'the outage was logged');
    assert.ok(
      lines.some((line) => line.includes(`127.0.0.1:${deadPort}/gatehouse`)),
      'the log names where the store is',
    );
    for (const line of lines) {
      assert.doesNotMatch(line, /s3cret/, 'a password reached the log');
      assert.doesNotMatch(line, /orders_app/, 'a user name reached the log');
    }
    assert.equal(lines.filter((line) => line.includes('order store is failing')).length, 1, 'one line per outage, not per retry');
  });
});
