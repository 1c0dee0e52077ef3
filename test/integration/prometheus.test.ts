import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { callClientStream, callUnary, channelCredentials, createClient, openServerStream } from '../../src/client/grpc-client.js';
import { assertRejects } from '../helpers/assert-status.js';
import { listServicesByReflection } from '../helpers/reflection.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

/**
 * Debian's real Prometheus scrapes the admin port every second; the test
 * drives calls of every kind and every common code, then reads the counts back
 * through Prometheus's HTTP query API and checks they are exact.
 */

const CHEESE = 'cheesefarm.v1.CheeseService';
const REFLECTION = 'grpc.reflection.v1.ServerReflection';
const PROMETHEUS = 'prometheus';
const hasPrometheus = spawnSync(PROMETHEUS, ['--version'], { stdio: 'ignore' }).status === 0;

// Skipped on a developer machine without Prometheus; in CI (which installs it) a missing binary fails the test.
const skip = hasPrometheus || process.env.CI ? false : 'prometheus is not installed (.ci/install-system-deps.sh installs it)';

describe('metrics as a real Prometheus sees them', { skip, timeout: 30_000 }, () => {
  let gw: TestGateway;
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  let dir = '';

  before(async () => {
    gw = await startGateway({ overrides: { 'server.maxReceiveMessageBytes': 4096 } });
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-prometheus-'));
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 900ms',
        'scrape_configs:',
        '  - job_name: gatehouse',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${gw.addresses.adminPort}']`,
        '',
      ].join('\n'),
    );
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus = child;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (spawnError) throw new Error(`cannot start prometheus: ${spawnError.message}`);
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
      const ready = await fetch(`${promUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`prometheus did not become ready in 10 s: ${stderr}`);
      await sleep(100);
    }
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(5000, false)]);
      if (!stopped) prometheus.kill('SIGKILL');
    }
    await gw?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** An instant query's single value; 0 when the series is absent (wrap the expression in sum() for that). */
  async function query(expression: string): Promise<number> {
    const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expression)}`);
    const body = (await response.json()) as { status: string; error?: string; data: { result: { value: [number, string] }[] } };
    assert.equal(body.status, 'success', `query ${expression} failed: ${body.error}`);
    assert.ok(body.data.result.length <= 1, `query ${expression} returned ${body.data.result.length} series`);
    return body.data.result.length === 0 ? NaN : Number(body.data.result[0]!.value[1]);
  }

  it('counts every call exactly, by kind and code, including the ones grpc-js ends itself', async () => {
    const alice = gw.client(CHEESE, 'alice');

    // Unary: OK x3, INVALID_ARGUMENT x2, RESOURCE_EXHAUSTED x1 (oversized: grpc-js refuses it before any interceptor).
    for (let i = 0; i < 3; i++) await callUnary(alice, 'order', { type: 'BRIE', age: 6, idempotencyKey: `prom-${i}` });
    for (let i = 0; i < 2; i++) await assertRejects(callUnary(alice, 'order', { age: 0, idempotencyKey: '' }), 'INVALID_ARGUMENT');
    await assertRejects(callUnary(alice, 'order', { type: 'BRIE', age: 6, idempotencyKey: 'k'.repeat(5000) }), 'RESOURCE_EXHAUSTED');
    // UNAUTHENTICATED x2: a client certificate but no token.
    const certs = gw.certs;
    const tokenless = createClient(
      CHEESE,
      gw.target,
      channelCredentials({ caFile: certs.caCert, certFile: certs.clients.alice.cert, keyFile: certs.clients.alice.key }),
      { 'grpc.ssl_target_name_override': 'localhost' },
    );
    for (let i = 0; i < 2; i++) await assertRejects(callUnary(tokenless, 'listOrders', {}), 'UNAUTHENTICATED');
    // Unary OK x1 on another method.
    await callUnary(alice, 'listOrders', {});
    // Client stream: OK x1 with 3 messages in, 1 out.
    await callClientStream(
      alice,
      'placeOrders',
      [0, 1, 2].map((i) => ({ type: 'EMMENTAL', age: 3, idempotencyKey: `prom-batch-${i}` })),
    );
    // Server stream: DEADLINE_EXCEEDED x1 (grpc-js ends it at the client's deadline) and CANCELLED x1 (client cancels).
    await assertRejects(
      new Promise((resolve, reject) => {
        const stream = openServerStream(alice, 'watchOrders', {}, { deadline: 300 });
        stream.on('data', () => undefined);
        stream.on('error', reject);
        stream.on('end', resolve);
      }),
      'DEADLINE_EXCEEDED',
    );
    const watch = openServerStream(alice, 'watchOrders', {});
    const watchEnded = new Promise<grpc.ServiceError>((resolve) => watch.on('error', resolve));
    watch.on('data', () => undefined);
    await sleep(150);
    watch.cancel();
    assert.equal((await watchEnded).code, grpc.status.CANCELLED);
    // Bidi stream: reflection's list, OK x1.
    const names = await listServicesByReflection(gw.target, gw.credentials('alice'));
    assert.ok(names.includes(CHEESE));
    tokenless.close();
    const doneAt = Date.now();

    // Wait for a scrape that started after the last call ended on the server.
    const waitUntil = Date.now() + 15_000;
    for (;;) {
      const lastScrape = await query('max(timestamp(up{job="gatehouse"}))').catch(() => NaN);
      if (lastScrape * 1000 > doneAt + 300) break;
      assert.ok(Date.now() < waitUntil, 'Prometheus did not scrape the gateway in time');
      await sleep(200);
    }
    assert.equal(await query('up{job="gatehouse"}'), 1, 'Prometheus could not scrape /metrics');

    const handled = (type: string, method: string, code: string) =>
      query(`grpc_server_handled_total{grpc_type="${type}",grpc_service="${CHEESE}",grpc_method="${method}",grpc_code="${code}"}`);
    const expected: [string, string, string, number][] = [
      ['unary', 'Order', 'OK', 3],
      ['unary', 'Order', 'InvalidArgument', 2],
      ['unary', 'Order', 'ResourceExhausted', 1],
      ['unary', 'ListOrders', 'Unauthenticated', 2],
      ['unary', 'ListOrders', 'OK', 1],
      ['client_stream', 'PlaceOrders', 'OK', 1],
      ['server_stream', 'WatchOrders', 'DeadlineExceeded', 1],
      ['server_stream', 'WatchOrders', 'Canceled', 1],
      ['unary', 'GetOrder', 'OK', 0],
    ];
    const seen: string[] = [];
    for (const [type, method, code, count] of expected) seen.push(`${method} ${code} ${await handled(type, method, code)} (want ${count})`);
    assert.deepEqual(
      seen,
      expected.map(([, method, code, count]) => `${method} ${code} ${count} (want ${count})`),
    );
    // Nothing else was counted for the service, and every started call finished.
    assert.equal(await query(`sum(grpc_server_handled_total{grpc_service="${CHEESE}"})`), 12);
    assert.equal(await query(`sum(grpc_server_started_total{grpc_service="${CHEESE}"})`), 12);
    assert.equal(await query(`sum(gatehouse_inflight_calls{grpc_service="${CHEESE}"})`), 0);
    assert.equal(await query(`grpc_server_handling_seconds_count{grpc_type="unary",grpc_service="${CHEESE}",grpc_method="Order"}`), 6);
    // Messages: the client stream's three in, one summary out; unary Order: 5 in (the oversized one never decoded), 3 out.
    assert.equal(await query(`grpc_server_msg_received_total{grpc_type="client_stream",grpc_service="${CHEESE}",grpc_method="PlaceOrders"}`), 3);
    assert.equal(await query(`grpc_server_msg_sent_total{grpc_type="client_stream",grpc_service="${CHEESE}",grpc_method="PlaceOrders"}`), 1);
    assert.equal(await query(`grpc_server_msg_received_total{grpc_type="unary",grpc_service="${CHEESE}",grpc_method="Order"}`), 5);
    assert.equal(await query(`grpc_server_msg_sent_total{grpc_type="unary",grpc_service="${CHEESE}",grpc_method="Order"}`), 3);
    // Bidi, through reflection.
    assert.equal(
      await query(
        `grpc_server_handled_total{grpc_type="bidi_stream",grpc_service="${REFLECTION}",grpc_method="ServerReflectionInfo",grpc_code="OK"}`,
      ),
      1,
    );
    // Series exist from start for every method and code: 5 methods x 17 codes.
    assert.equal(await query(`count(grpc_server_handled_total{grpc_service="${CHEESE}"})`), 5 * 17);
    // The auth failures, process metrics and health are there too.
    assert.equal(await query('sum(gatehouse_auth_failures_total)'), 2);
    assert.equal(await query(`gatehouse_health_serving{service="${CHEESE}"}`), 1);
    assert.ok((await query('process_resident_memory_bytes{job="gatehouse"}')) > 0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
