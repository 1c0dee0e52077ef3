import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { callUnary, openServerStream } from '../../src/client/grpc-client.js';
import { ERROR_DOMAIN } from '../../src/status/status-details.js';
import { assertRejects } from '../helpers/assert-status.js';
import { createSlowService, SLOW_SERVICE, SlowClient } from '../helpers/slow-service.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const A_JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

describe('status mapping, rich details and limits, as a real client decodes them', () => {
  let gw: TestGateway;
  let cheese: grpc.Client;
  let cheeseAsBob: grpc.Client;
  let slow: grpc.Client;
  before(async () => {
    gw = await startGateway({
      extraServices: [createSlowService()],
      overrides: {
        'server.maxReceiveMessageBytes': 4096,
        'rateLimits.methods': { [`${CHEESE}/GetOrder`]: { requestsPerSecond: 1, burst: 2 } },
        'rateLimits.maxConcurrentStreamsPerConnection': 2,
        'policy.services': { [SLOW_SERVICE]: { requireToken: false } },
      },
    });
    cheese = gw.client(CHEESE, 'alice');
    cheeseAsBob = gw.client(CHEESE, 'bob');
    slow = new SlowClient(gw.target, gw.credentials('alice'), { 'grpc.ssl_target_name_override': 'localhost' });
  });
  after(async () => {
    slow?.close();
    await gw?.close();
  });

  it('INVALID_ARGUMENT carries ErrorInfo and BadRequest field violations', async () => {
    const { details } = await assertRejects(
      callUnary(cheese, 'order', { type: 'BRIE', age: 500, idempotencyKey: 'x' }),
      'INVALID_ARGUMENT',
      /age must be 1 to 120/,
    );
    assert.equal(details?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(details?.errorInfo?.domain, ERROR_DOMAIN);
    assert.deepEqual(
      details?.fieldViolations?.map((v) => v.field),
      ['age'],
    );
    await sleep(50);
    const line = gw.logs.filter((l) => l.msg === 'grpc call' && l.method === `/${CHEESE}/Order`).at(-1);
    assert.ok(line, 'no access line');
    assert.equal(line.code, 'INVALID_ARGUMENT');
    assert.equal(line.level, 'info');
    assert.equal(line.peer, gw.certs.clients.alice.identity);
    assert.equal(line.subject, gw.certs.clients.alice.identity, 'the token subject');
    assert.match(String(line.peerAddress), /^127\.0\.0\.1:\d+$/);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(line.messagesIn, 1);
    assert.ok(Number(line.bytesIn) > 0 && line.bytesOut === 0, `bytes ${line.bytesIn}/${line.bytesOut}`);
    assert.match(String(line.details), /age must be 1 to 120/);
  });

  it('a bug becomes INTERNAL with a reference id and the trace id; the cause is logged under both, secrets redacted', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('traceparent', `00-${TRACE_ID}-00f067aa0ba902b7-01`);
    const { error, details } = await assertRejects(
      callUnary(slow, 'Work', { crash: `database password rejected for ${A_JWT}` }, { metadata }),
      'INTERNAL',
      new RegExp(`^internal error \\(reference [0-9a-f]{12}, trace ${TRACE_ID}\\)`),
    );
    assert.doesNotMatch(error.details, /database|password/, 'the cause leaked to the client');
    const referenceId = details?.errorInfo?.metadata.referenceId;
    assert.ok(referenceId && error.details.includes(referenceId));
    await sleep(50);
    const line = gw.logs.find((l) => l.msg === 'grpc call' && l.referenceId === referenceId);
    assert.ok(line, 'no access line for the failed call');
    assert.equal(line.level, 'error');
    assert.equal(line.traceId, TRACE_ID);
    assert.equal(line.code, 'INTERNAL');
    const cause = line.error as { message: string; stack: string };
    assert.match(cause.message, /database password rejected for \[REDACTED JWT\]/);
    assert.ok(!JSON.stringify(gw.logs).includes(A_JWT), 'a token reached the log');
  });

  it('a rate limit gives RESOURCE_EXHAUSTED with RetryInfo, per caller', async () => {
    const missing = { orderId: 'ord_00000000000000000000' };
    await assertRejects(callUnary(cheese, 'getOrder', missing), 'NOT_FOUND');
    await assertRejects(callUnary(cheese, 'getOrder', missing), 'NOT_FOUND');
    const { details } = await assertRejects(callUnary(cheese, 'getOrder', missing), 'RESOURCE_EXHAUSTED', /rate limit .* at most 1 calls per second/);
    assert.equal(details?.errorInfo?.reason, 'RATE_LIMITED');
    assert.ok(
      details?.retryDelayMs !== undefined && details.retryDelayMs > 0 && details.retryDelayMs <= 1000,
      `retry delay ${details?.retryDelayMs}`,
    );
    // Another identity has its own bucket.
    await assertRejects(callUnary(cheeseAsBob, 'getOrder', missing), 'NOT_FOUND');
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /gatehouse_rate_limited_total\{grpc_service="cheesefarm\.v1\.CheeseService",grpc_method="GetOrder"\} 1\n/);
  });

  it('more concurrent streams on one connection than allowed get a clear RESOURCE_EXHAUSTED', async () => {
    const watches = [openServerStream(cheese, 'watchOrders', {}), openServerStream(cheese, 'watchOrders', {})];
    for (const watch of watches) {
      watch.on('data', () => undefined);
      watch.on('error', () => undefined);
    }
    await sleep(100);
    const { details } = await assertRejects(callUnary(cheese, 'listOrders', {}), 'RESOURCE_EXHAUSTED', /already has 2 calls in progress/);
    assert.equal(details?.errorInfo?.reason, 'TOO_MANY_STREAMS');
    assert.ok(details?.retryDelayMs !== undefined);
    watches[0]!.cancel();
    await sleep(100);
    await callUnary(cheese, 'listOrders', {});
    watches[1]!.cancel();
  });

  it('an oversized request gets RESOURCE_EXHAUSTED naming the limit, and is counted with that code', async () => {
    const { details } = await assertRejects(
      callUnary(cheese, 'order', { type: 'BRIE', age: 4, idempotencyKey: 'k'.repeat(5000) }),
      'RESOURCE_EXHAUSTED',
      /request message is \d+ bytes; this server accepts at most 4096 bytes .*server\.maxReceiveMessageBytes/,
    );
    assert.equal(details?.errorInfo?.reason, 'REQUEST_TOO_LARGE');
    await sleep(50);
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      /grpc_server_handled_total\{grpc_type="unary",grpc_service="cheesefarm\.v1\.CheeseService",grpc_method="Order",grpc_code="ResourceExhausted"\} 1\n/,
    );
  });
});
