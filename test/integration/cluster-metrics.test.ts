import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as grpc from '@grpc/grpc-js';
import { makeTemporaryDevCertificates, type DevCertificateSet } from '../../certs/dev-certificates.js';
import { callUnary, channelCredentials, createClient } from '../../src/client/grpc-client.js';
import { devTokenFor, withBearerToken } from '../helpers/dev-token.js';
import { spawnGateway, type GatewayProcess } from '../helpers/gateway-process.js';

const CHEESE = 'cheesefarm.v1.CheeseService';
/** The primary's default wait for workers (admin.workerMetricsTimeoutMs). */
const WORKER_METRICS_TIMEOUT_MS = 2000;

/** One scrape of the primary: HTTP status, how long it took, and the summed count of successful Order calls. */
async function scrape(adminPort: number): Promise<{ status: number; ms: number; orders: number }> {
  const startedAt = performance.now();
  const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('grpc_server_handled_total{') && l.includes('grpc_method="Order"') && l.includes('grpc_code="OK"'));
  return { status: response.status, ms: performance.now() - startedAt, orders: line ? Number(line.split(' ').pop()) : Number.NaN };
}

/** Issue 12, item 17: /metrics of `serve --workers 2` while workers hang and die. */
describe('cluster metrics when a worker hangs or dies', () => {
  let certs: DevCertificateSet;
  let dataDir: string;
  let gw: GatewayProcess;
  const clients: grpc.Client[] = [];

  before(async () => {
    certs = makeTemporaryDevCertificates();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-metrics-'));
    gw = await spawnGateway(certs, join(dataDir, 'orders.db'), { GATEHOUSE_LOGGING__LEVEL: 'info' }, ['--workers', '2']);
  });
  after(async () => {
    for (const client of clients) client.close();
    if (gw.child.exitCode === null) {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
    rmSync(certs.dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('scrapes answer within the timeout with the workers that answer, and summed counters never go backwards', async () => {
    const credentials = withBearerToken(
      channelCredentials({ caFile: certs.caCert, certFile: certs.clients.alice.cert, keyFile: certs.clients.alice.key }),
      devTokenFor(certs, 'alice'),
    );
    // One connection per call: cluster balances connections, so both workers count some.
    for (let i = 0; i < 12; i += 1) {
      const client = createClient(CHEESE, `127.0.0.1:${gw.grpcPort}`, credentials, {
        'grpc.ssl_target_name_override': 'localhost',
        'grpc.use_local_subchannel_pool': 1,
      });
      clients.push(client);
      await callUnary(client, 'order', { type: 'BRIE', age: 5, idempotencyKey: `metrics-${i}` }, { deadline: 5000 });
    }
    const first = await scrape(gw.adminPort);
    assert.equal(first.status, 200);
    assert.equal(first.orders, 12);
    const pids = gw.output.filter((l) => l.includes('"msg":"worker started"')).map((l) => (JSON.parse(l) as { pid: number }).pid);
    assert.equal(pids.length, 2);

    // A worker that hangs (stopped, alive, not answering): the scrape waits for it at most the timeout.
    process.kill(pids[1]!, 'SIGSTOP');
    try {
      const hung = await scrape(gw.adminPort);
      assert.equal(hung.status, 200);
      assert.ok(hung.ms < WORKER_METRICS_TIMEOUT_MS + 1000, `a scrape with a hung worker took ${hung.ms.toFixed(0)} ms`);
      assert.equal(hung.orders, 12, "the hung worker's counts are carried from its last answer");
    } finally {
      process.kill(pids[1]!, 'SIGCONT');
    }

    // A worker killed: every scrape from that moment answers 200 in time, and the sum never drops.
    process.kill(pids[0]!, 'SIGKILL');
    const seen: { status: number; ms: number; orders: number }[] = [];
    const until = performance.now() + 4000;
    while (performance.now() < until) {
      seen.push(await scrape(gw.adminPort));
      await sleep(100);
    }
    assert.ok(seen.length >= 3, `only ${seen.length} scrapes`);
    for (const s of seen) {
      assert.equal(s.status, 200, `a scrape failed after the kill: ${JSON.stringify(seen)}`);
      assert.ok(s.ms < WORKER_METRICS_TIMEOUT_MS + 1000, `a scrape took ${s.ms.toFixed(0)} ms: ${JSON.stringify(seen)}`);
      assert.ok(s.orders >= 12, `the summed counter went backwards: ${JSON.stringify(seen)}`);
    }
    // Once the replacement is up, the departed worker's counts are still in the sum.
    for (let i = 0; i < 50 && !gw.output.some((l) => l.includes('"msg":"worker started"') && !pids.some((p) => l.includes(`"pid":${p}`))); i += 1)
      await sleep(100);
    assert.equal((await scrape(gw.adminPort)).orders, 12);
  });
});
