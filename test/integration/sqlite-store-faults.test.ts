/**
 * Issue 12 item 19: storage faults of the SQLite store, on a real filesystem
 * that fills up and turns read-only (a tmpfs of its own) and a file with
 * damaged pages. Clients get codes they can act on, never INTERNAL; the service
 * is NOT_SERVING (and /readyz 503) while it cannot write, and recovers by itself.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { callUnary } from '../../src/client/grpc-client.js';
import { assertRejects } from '../helpers/assert-status.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { mountTmpfs, tmpfsUnavailable, type Tmpfs } from '../helpers/tmpfs.js';

const CHEESE = 'cheesefarm.v1.CheeseService';
const skip = tmpfsUnavailable();

describe('SQLite store faults', { skip }, () => {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const gatewayOn = async (fs: Tmpfs, waitForWarmUp = true) => {
    const gw = await startGateway({
      waitForWarmUp,
      overrides: {
        'storage.sqlitePath': join(fs.dir, 'orders.db'),
        'storage.probeIntervalMs': 100,
        'logging.accessLog': false,
        'cheese.stock': { BRIE: 1_000_000 },
      },
    });
    cleanups.push(() => gw.close());
    return gw;
  };
  const tmpfs = (sizeMiB: number) => {
    const fs = mountTmpfs(sizeMiB);
    cleanups.push(() => fs.close());
    return fs;
  };
  const order = (gw: TestGateway, key: string) =>
    callUnary<{ orderId: string }>(gw.client(CHEESE), 'order', { type: 'BRIE', age: 3, idempotencyKey: key });
  const readiness = async (gw: TestGateway) => ({ grpc: gw.gateway.health.get(CHEESE), readyz: (await fetch(`${gw.adminUrl}/readyz`)).status });
  const until = async (gw: TestGateway, serving: boolean) => {
    for (let i = 0; i < 100; i += 1) {
      if ((gw.gateway.health.get(CHEESE) === 'SERVING') === serving) return;
      await sleep(50);
    }
    throw new Error(`CheeseService never became ${serving ? 'SERVING' : 'NOT_SERVING'}`);
  };

  it('a full disk: RESOURCE_EXHAUSTED with RetryInfo and NOT_SERVING; space freed: serving again', async () => {
    const fs = tmpfs(16);
    const gw = await gatewayOn(fs);
    await order(gw, 'before-full');
    try {
      writeFileSync(join(fs.dir, 'filler'), Buffer.alloc(32 * 1024 * 1024));
    } catch {
      /* ENOSPC: the disk is full now */
    }
    let full: Awaited<ReturnType<typeof assertRejects>> | undefined;
    // The WAL may still have room for a few orders; the first refusal must be the full disk, not a bug.
    for (let i = 0; i < 5000 && !full; i += 1) {
      try {
        await order(gw, `fill-${i}`);
      } catch {
        full = await assertRejects(order(gw, `fill-${i}-again`), 'RESOURCE_EXHAUSTED', /out of disk space and nothing was written/);
      }
    }
    assert.ok(full, 'the disk never filled up');
    assert.equal(full.details?.errorInfo?.reason, 'STORE_FULL');
    assert.ok((full.details?.retryDelayMs ?? 0) > 0, 'RetryInfo');
    assert.deepEqual(await readiness(gw), { grpc: 'NOT_SERVING', readyz: 503 });
    rmSync(join(fs.dir, 'filler'));
    await until(gw, true);
    assert.deepEqual(await readiness(gw), { grpc: 'SERVING', readyz: 200 });
    await order(gw, 'after-full');
  });

  it('a damaged page: FAILED_PRECONDITION without RetryInfo and NOT_SERVING; repaired: serving again', async () => {
    const fs = tmpfs(32);
    const gw = await gatewayOn(fs);
    await order(gw, 'page-0');
    const path = join(fs.dir, 'orders.db');
    // Enough rows for many pages (written directly: 300 calls would take long), every page moved into the main
    // file, then three table pages overwritten, keeping the good bytes to repair with.
    const other = new Database(path);
    const insert = other.prepare(
      "INSERT INTO orders (id, idempotency_key, ordered_by, type, age_months, quantity, ordered_at_ms) VALUES (?, ?, 'x', 'BRIE', 3, 1, 0)",
    );
    other.transaction(() => {
      for (let i = 1; i < 300; i += 1) insert.run(`ord_page${i}`, `page-${i}`);
    })();
    other.pragma('wal_checkpoint(TRUNCATE)');
    other.close();
    const good = Buffer.alloc(3 * 4096);
    const fd = openSync(path, 'r+');
    readSync(fd, good, 0, good.length, 2 * 4096);
    writeSync(fd, Buffer.alloc(good.length, 0x5a), 0, good.length, 2 * 4096);
    const { details } = await assertRejects(order(gw, 'on-damaged'), 'FAILED_PRECONDITION', /damaged and needs an operator/);
    assert.equal(details?.errorInfo?.reason, 'STORE_DAMAGED');
    assert.equal(details?.retryDelayMs, undefined, 'retrying cannot help: no RetryInfo');
    assert.deepEqual(await readiness(gw), { grpc: 'NOT_SERVING', readyz: 503 });
    writeSync(fd, good, 0, good.length, 2 * 4096);
    closeSync(fd);
    await until(gw, true);
    await order(gw, 'after-repair');
  });

  it('a read-only disk at start: UNAVAILABLE with RetryInfo and NOT_SERVING; writable again: reopened and serving', async () => {
    const fs = tmpfs(16);
    const setup = new Database(join(fs.dir, 'orders.db'));
    setup.pragma('journal_mode = WAL');
    setup.close();
    fs.setReadOnly(true);
    const gw = await gatewayOn(fs);
    assert.deepEqual(await readiness(gw), { grpc: 'NOT_SERVING', readyz: 503 });
    const { details } = await assertRejects(order(gw, 'on-read-only'), 'UNAVAILABLE', /order store is (unavailable|read-only)/);
    assert.ok((details?.retryDelayMs ?? 0) > 0, 'RetryInfo');
    fs.setReadOnly(false);
    await until(gw, true);
    assert.deepEqual(await readiness(gw), { grpc: 'SERVING', readyz: 200 });
    await order(gw, 'after-read-only');
  });

  it('a database path that cannot be opened at start is retried until it can', async () => {
    const fs = tmpfs(4);
    // A file where the database's directory should be: mkdir fails, the store cannot open.
    writeFileSync(join(fs.dir, 'blocked'), 'not a directory');
    const gw = await startGateway({
      overrides: { 'storage.sqlitePath': join(fs.dir, 'blocked', 'orders.db'), 'storage.probeIntervalMs': 100, 'logging.accessLog': false },
    });
    cleanups.push(() => gw.close());
    assert.equal(gw.gateway.health.get(CHEESE), 'NOT_SERVING');
    const { details } = await assertRejects(order(gw, 'not-open'), 'UNAVAILABLE', /order store is unavailable/);
    assert.ok((details?.retryDelayMs ?? 0) > 0);
    rmSync(join(fs.dir, 'blocked'));
    await until(gw, true);
    await order(gw, 'opened-late');
    assert.equal(
      gw.logs.filter((line) => line.msg === 'order store is failing; CheeseService is NOT_SERVING until it recovers').length,
      1,
      'the outage is logged once, not once per retry',
    );
  });
});
