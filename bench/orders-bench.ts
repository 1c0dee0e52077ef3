/**
 * Orders per second and latency by store, and what the shared rate limit
 * costs per call. Starts a real PostgreSQL (fsync on) and Redis, gateways as
 * real processes (one worker each), and the load generator
 * (bench/order-load.ts) in a process of its own.
 *
 *   node --import tsx bench/orders-bench.ts [--duration-ms 5000] [--concurrency 32]
 *
 * Prints a table; figures depend on the machine (the lead runs the final ones
 * on a quiet one). Bounded: each scenario runs --duration-ms after warm-up.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { makeTemporaryDevCertificates } from '../certs/dev-certificates.js';
import { spawnGateway, type GatewayProcess } from '../test/helpers/gateway-process.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { startRedis } from '../test/helpers/redis-server.js';
import type { LoadResult, LoadSpec } from './order-load.js';

const { values } = parseArgs({ options: { 'duration-ms': { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '32' } } });
const durationMs = Number(values['duration-ms']);
const concurrency = Number(values.concurrency);
const run = promisify(execFile);

const certs = makeTemporaryDevCertificates();
const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-orders-bench-'));
const [pg, redis] = await Promise.all([startPostgres({ fsync: true }), startRedis()]);
const gateways: GatewayProcess[] = [];
const QUIET = { GATEHOUSE_LOGGING__ACCESS_LOG: 'false', GATEHOUSE_CHEESE__STOCK: '{BRIE: 100000000}' };

const gatewayWith = async (env: Record<string, string>) => {
  const gw = await spawnGateway(certs, join(scratch, `orders-${gateways.length}.db`), { ...QUIET, ...env });
  gateways.push(gw);
  for (let i = 0; i < 200 && (await fetch(`http://127.0.0.1:${gw.adminPort}/readyz`)).status !== 200; i += 1)
    await new Promise((r) => setTimeout(r, 50));
  return gw;
};
const stopAll = async () => {
  for (const gw of gateways.splice(0)) {
    gw.child.kill('SIGTERM');
    await gw.exited;
  }
};
const load = async (targets: GatewayProcess[], method: LoadSpec['method'], orderId?: string): Promise<LoadResult> => {
  const spec: LoadSpec = {
    targets: targets.map((gw) => `127.0.0.1:${gw.grpcPort}`),
    certs,
    method,
    orderId,
    concurrency,
    durationMs,
    runId: `run-${Date.now()}`,
    answerCodes: method === 'getOrder' ? ['NOT_FOUND'] : [],
  };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/order-load.ts', JSON.stringify(spec)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
};

const rows: [string, LoadResult][] = [];
try {
  await gatewayWith({});
  rows.push(['Order, SQLite, 1 gateway', await load(gateways, 'order')]);
  await stopAll();

  await gatewayWith({ GATEHOUSE_STORAGE__URL: pg.url });
  rows.push(['Order, PostgreSQL, 1 gateway', await load(gateways, 'order')]);
  await gatewayWith({ GATEHOUSE_STORAGE__URL: pg.url });
  rows.push(['Order, PostgreSQL, 2 gateways', await load(gateways, 'order')]);
  await stopAll();

  // The rate limit's cost: the same cheap call (GetOrder on SQLite) under a limit it never reaches, buckets in
  // memory against buckets in Redis.
  const limited = { GATEHOUSE_RATE_LIMITS__DEFAULT__REQUESTS_PER_SECOND: '1000000', GATEHOUSE_RATE_LIMITS__DEFAULT__BURST: '1000000' };
  await gatewayWith(limited);
  const memory = await load(gateways, 'getOrder', 'ord_missing');
  rows.push(['GetOrder, rate limit in memory', memory]);
  await stopAll();
  await gatewayWith({ ...limited, GATEHOUSE_RATE_LIMITS__REDIS_URL: redis.url, GATEHOUSE_RATE_LIMITS__REDIS_BUDGET_MS: '50' });
  const shared = await load(gateways, 'getOrder', 'ord_missing');
  rows.push(['GetOrder, rate limit in Redis', shared]);
  await stopAll();

  console.log(`\n${concurrency} calls in flight, ${durationMs} ms per scenario, load generator in its own process\n`);
  console.log('scenario                          calls/s     p50 ms     p99 ms   errors');
  for (const [name, r] of rows) {
    const errors =
      Object.entries(r.errors)
        .map(([c, n]) => `${c}:${n}`)
        .join(' ') || '-';
    console.log(
      `${name.padEnd(32)} ${String(r.callsPerSecond).padStart(8)} ${r.p50Ms.toFixed(2).padStart(10)} ${r.p99Ms.toFixed(2).padStart(10)}   ${errors}`,
    );
  }
  // Gateway time per call at saturation: the difference is what the Redis round trip (and its promise) costs.
  const perCallMs = (r: LoadResult) => 1000 / r.callsPerSecond;
  console.log(
    `\nRedis rate limit against in memory: p50 ${(shared.p50Ms - memory.p50Ms).toFixed(2)} ms more per call, ` +
      `${((perCallMs(shared) - perCallMs(memory)) * 1000).toFixed(0)} us more gateway time per call at saturation`,
  );
} finally {
  await stopAll();
  await Promise.all([pg.close(), redis.close()]);
  rmSync(scratch, { recursive: true, force: true });
  rmSync(certs.dir, { recursive: true, force: true });
}
