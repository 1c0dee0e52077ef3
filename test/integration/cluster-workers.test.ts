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

/** The primary's /metrics: the sum over workers. */
async function handledOrders(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('grpc_server_handled_total{') && l.includes('grpc_method="Order"') && l.includes('grpc_code="OK"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Access-log lines of Order calls, by the worker that served them. */
function ordersByWorker(gw: GatewayProcess): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of gw.output) {
    if (!line.includes('"msg":"grpc call"') || !line.includes('/cheesefarm.v1.CheeseService/Order"')) continue;
    const worker = (JSON.parse(line) as { worker: number }).worker;
    counts.set(worker, (counts.get(worker) ?? 0) + 1);
  }
  return counts;
}

describe('serve --workers 2', () => {
  let certs: DevCertificateSet;
  let dataDir: string;
  let gw: GatewayProcess;
  const clients: grpc.Client[] = [];
  /** A client on its own connection: cluster balances connections, not calls. */
  const freshClient = (i: number) => {
    const credentials = withBearerToken(
      channelCredentials({ caFile: certs.caCert, certFile: certs.clients.alice.cert, keyFile: certs.clients.alice.key }),
      devTokenFor(certs, 'alice'),
    );
    const client = createClient(CHEESE, `127.0.0.1:${gw.grpcPort}`, credentials, {
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.use_local_subchannel_pool': 1,
      'test.connection': i,
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    certs = makeTemporaryDevCertificates();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'));
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

  it('both workers serve calls and /metrics sums their counts exactly', async () => {
    const calls = 16;
    for (let i = 0; i < calls; i += 1) {
      await callUnary(freshClient(i), 'order', { type: 'BRIE', age: 5, idempotencyKey: `cluster-${i}` });
    }
    await sleep(200); // access lines are written as calls end
    const byWorker = ordersByWorker(gw);
    assert.equal(byWorker.size, 2, `both workers served Order calls: ${JSON.stringify([...byWorker])}`);
    assert.equal(
      [...byWorker.values()].reduce((a, b) => a + b, 0),
      calls,
    );
    assert.equal(await handledOrders(gw.adminPort), calls, 'the primary reports the exact sum over workers');
    // Gauges that alerts compare with thresholds must not be summed: the dev server certificate lives 825 days.
    const text = await (await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`)).text();
    const expiry = Number(
      text
        .split('\n')
        .find((l) => l.startsWith('gatehouse_certificate_expiry_seconds{certificate="server"}'))
        ?.split(' ')
        .pop(),
    );
    assert.ok(expiry > 824 * 86400 && expiry <= 825 * 86400, `certificate expiry is one worker's view, not a sum: ${expiry}`);
    assert.match(text, /gatehouse_health_serving\{service=""\} 1\n/);
  });

  it('a killed worker is replaced while the service keeps answering, and drain stops everything with exit 0', async () => {
    const ready = async () =>
      (await fetch(`http://127.0.0.1:${gw.adminPort}/readyz`)).json() as Promise<{ ready: boolean; services: Record<string, string> }>;
    const before = Object.keys((await ready()).services);
    assert.equal(before.length, 2);
    const pids = gw.output.filter((l) => l.includes('"msg":"worker started"')).map((l) => (JSON.parse(l) as { pid: number }).pid);
    assert.equal(pids.length, 2, 'the primary logs each worker it starts');
    process.kill(pids[0]!, 'SIGKILL');
    // A connection the primary hands out in the instant before it notices the death is lost with the worker (clients
    // retry those); once it has noticed, every new connection goes to the survivor.
    for (let i = 0; i < 100 && !gw.output.some((l) => l.includes('worker died; starting a replacement')); i += 1) await sleep(20);
    assert.ok(
      gw.output.some((l) => l.includes('worker died; starting a replacement')),
      'the primary noticed the death',
    );

    // The survivor keeps serving while the replacement starts.
    for (let i = 0; i < 4; i += 1) {
      await callUnary(freshClient(100 + i), 'order', { type: 'EMMENTAL', age: 5, idempotencyKey: `during-${i}` }, { deadline: 5000 });
    }

    let after = before;
    for (let i = 0; i < 100; i += 1) {
      const state = await ready();
      after = Object.keys(state.services);
      if (state.ready && after.length === 2 && after.some((w) => !before.includes(w))) break;
      await sleep(100);
    }
    assert.ok(
      after.some((w) => !before.includes(w)),
      `a replacement worker joined: before ${before}, after ${after}`,
    );

    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
    assert.ok(gw.output.filter((l) => l.includes('"msg":"stopped"')).length >= 3, 'both workers and the primary stopped cleanly');
  });
});
