import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatehouseError } from '../../src/errors.js';
import { callUnary, openServerStream } from '../../src/client/grpc-client.js';
import { assertRejects } from '../helpers/assert-status.js';
import { createSlowService, SLOW_SERVICE, SlowClient } from '../helpers/slow-service.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const DEFAULT_MS = 300;
const MAX_MS = 600;
const MIN_BUDGET_MS = 100;

describe('deadlines', () => {
  let gw: TestGateway;
  let slow: ReturnType<typeof createSlowService>;
  let client: grpc.Client;
  before(async () => {
    slow = createSlowService();
    gw = await startGateway({
      extraServices: [slow],
      overrides: {
        'deadlines.methods': {
          [`${SLOW_SERVICE}/Work`]: { defaultMs: DEFAULT_MS, maxMs: MAX_MS, minBudgetMs: MIN_BUDGET_MS },
          [`${SLOW_SERVICE}/Stream`]: { defaultMs: 0, maxMs: 0 },
        },
        'policy.services': { [SLOW_SERVICE]: { requireToken: false } },
      },
    });
    client = new SlowClient(gw.target, gw.credentials('alice'), { 'grpc.ssl_target_name_override': 'localhost' });
  });
  after(async () => {
    client?.close();
    await gw?.close();
  });

  /** Waits a little and checks the handler did no more work after it should have stopped. */
  async function assertStopped(record: (typeof slow.calls)[number]): Promise<void> {
    await sleep(50);
    const steps = record.steps;
    await sleep(200);
    assert.equal(record.steps, steps, 'the handler kept working after its caller was gone');
    assert.equal(record.finished, true);
  }

  it('a call without a deadline gets the method default, and the handler stops when it passes', async () => {
    const startedAt = Date.now();
    const { details } = await assertRejects(callUnary(client, 'Work', {}), 'DEADLINE_EXCEEDED', /deadline of 30\d ms \(server default\) exceeded/);
    const elapsedMs = Date.now() - startedAt;
    assert.ok(elapsedMs >= DEFAULT_MS - 20 && elapsedMs < DEFAULT_MS + 400, `ended after ${elapsedMs} ms`);
    assert.equal(details?.errorInfo?.reason, 'DEADLINE_EXCEEDED');
    const record = slow.calls.at(-1)!;
    assert.ok(record.deadline, 'the handler saw no deadline');
    assert.ok(Math.abs(record.deadline.getTime() - (record.startedAtMs + DEFAULT_MS)) < 100, 'the handler saw a deadline other than the default');
    assert.ok(record.abortReason instanceof GatehouseError && record.abortReason.code === grpc.status.DEADLINE_EXCEEDED);
    assert.ok(record.steps > 0, 'the handler never ran');
    await assertStopped(record);
  });

  it('a longer client deadline is clamped to the method maximum', async () => {
    const startedAt = Date.now();
    await assertRejects(callUnary(client, 'Work', {}, { deadline: 10_000 }), 'DEADLINE_EXCEEDED', /\(server maximum\)/);
    const elapsedMs = Date.now() - startedAt;
    assert.ok(elapsedMs >= MAX_MS - 20 && elapsedMs < MAX_MS + 400, `ended after ${elapsedMs} ms, not at the ${MAX_MS} ms maximum`);
    const record = slow.calls.at(-1)!;
    assert.ok(Math.abs(record.deadline!.getTime() - (record.startedAtMs + MAX_MS)) < 100, 'the handler did not see the clamped deadline');
    await assertStopped(record);
  });

  it('a shorter client deadline is kept as it is', async () => {
    const reply = await callUnary<{ steps: number }>(client, 'Work', { workMs: 20 }, { deadline: 450 });
    assert.ok(reply.steps > 0);
    const record = slow.calls.at(-1)!;
    const offsetMs = record.deadline!.getTime() - record.startedAtMs;
    assert.ok(offsetMs > 450 - 100 && offsetMs <= 450, `the handler's deadline was ${offsetMs} ms after it started, not the client's 450`);
  });

  it('a call with less than the minimum budget fails at once, before the handler runs', async () => {
    const before = slow.calls.length;
    const startedAt = Date.now();
    const { details } = await assertRejects(callUnary(client, 'Work', { workMs: 1 }, { deadline: 60 }), 'DEADLINE_EXCEEDED', /needs at least 100 ms/);
    assert.ok(Date.now() - startedAt < 60, 'the refusal was not immediate');
    assert.equal(details?.errorInfo?.reason, 'DEADLINE_TOO_SHORT');
    assert.equal(details?.errorInfo?.metadata.minBudgetMs, '100');
    await sleep(100);
    assert.equal(slow.calls.length, before, 'the handler ran although the budget was too small');
  });

  it('a client that cancels a slow call stops the work', async () => {
    const stream = openServerStream<{ step: number }>(client, 'Stream', {});
    const failed = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    stream.on('data', () => undefined);
    await sleep(150);
    const record = slow.calls.at(-1)!;
    assert.equal(record.deadline, undefined, 'a watch-style stream got a deadline');
    assert.ok(record.steps > 10, `the handler did only ${record.steps} steps`);
    stream.cancel();
    assert.equal((await failed).code, grpc.status.CANCELLED);
    await assertStopped(record);
    assert.ok(
      record.abortReason instanceof GatehouseError && record.abortReason.code === grpc.status.CANCELLED,
      `abort reason: ${String(record.abortReason)}`,
    );
  });

  it('the access log records the timed-out calls with their code', () => {
    const lines = gw.logs.filter((line) => line.msg === 'grpc call' && line.method === `/${SLOW_SERVICE}/Work`);
    assert.deepEqual(
      lines.map((line) => line.code),
      ['DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', 'OK', 'DEADLINE_EXCEEDED'],
    );
  });
});
