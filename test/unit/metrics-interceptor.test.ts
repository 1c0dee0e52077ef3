import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createGatewayInterceptor } from '../../interceptors/gateway-call.js';
import { methodNames } from '../../interceptors/method-names.js';
import { createMetricsStep } from '../../interceptors/metrics.js';

const PATH = '/test.v1.Svc/Get';

/** Stands in for grpc-js's base call: records what reaches the wire, lets the test end the call. */
class FakeBase {
  listener!: { onReceiveMetadata(m: grpc.Metadata): void; onReceiveMessage(m: unknown): void; onCancel(): void };
  written: number[] = [];
  constructor(private readonly deadlineMs = Infinity) {}
  start(listener: FakeBase['listener']) {
    this.listener = listener;
    listener.onReceiveMetadata(new grpc.Metadata());
  }
  sendMetadata() {}
  sendMessage(_message: unknown, callback: () => void) {
    callback();
  }
  sendStatus(status: { code: number }) {
    this.written.push(status.code);
  }
  startRead() {}
  getPeer() {
    return '127.0.0.1:1';
  }
  getDeadline() {
    return this.deadlineMs;
  }
  getHost() {
    return 'localhost';
  }
  getAuthContext() {
    return {};
  }
  getConnectionInfo() {
    return {};
  }
  getMetricsRecorder() {
    return undefined;
  }
}

function setUp() {
  const registry = new Registry();
  const interceptor = createGatewayInterceptor({ steps: [createMetricsStep({ registry, methods: [methodNames(PATH, false, false)] })] });
  const open = (deadlineMs = Infinity) => {
    const base = new FakeBase(deadlineMs);
    const method = { path: PATH, requestStream: false, responseStream: false } as Parameters<grpc.ServerInterceptor>[0];
    const call = interceptor(method, base as unknown as Parameters<grpc.ServerInterceptor>[1]);
    call.start({ onReceiveMetadata() {}, onReceiveMessage() {}, onReceiveHalfClose() {}, onCancel() {} });
    return { base, call };
  };
  const handled = async (code: string) => {
    const metric = await registry.getSingleMetric('grpc_server_handled_total')!.get();
    return metric.values.find((v) => v.labels.grpc_code === code)?.value;
  };
  return { registry, open, handled };
}

describe('metrics step', () => {
  it('initialises every code at zero for every method at start', async () => {
    const { registry } = setUp();
    const text = await registry.metrics();
    assert.equal(text.match(/^grpc_server_handled_total\{/gm)?.length, 17);
    assert.match(
      text,
      /grpc_server_handled_total\{grpc_type="unary",grpc_service="test\.v1\.Svc",grpc_method="Get",grpc_code="DeadlineExceeded"\} 0/,
    );
    assert.match(text, /grpc_server_started_total\{grpc_type="unary",grpc_service="test\.v1\.Svc",grpc_method="Get"\} 0/);
    assert.match(text, /grpc_server_handling_seconds_bucket\{grpc_type="unary",grpc_service="test\.v1\.Svc",grpc_method="Get",le="0\.005"\} 0/);
    assert.match(text, /grpc_server_handling_seconds_bucket\{grpc_type="unary",grpc_service="test\.v1\.Svc",grpc_method="Get",le="\+Inf"\} 0/);
  });

  it('counts a status seen on the way out once, even when onCancel follows', async () => {
    const { open, handled } = setUp();
    const { base, call } = open();
    call.sendStatus({ code: grpc.status.NOT_FOUND, details: 'nope' });
    base.listener.onCancel();
    assert.equal(await handled('NotFound'), 1);
    assert.equal(await handled('Canceled'), 0);
  });

  it('a call grpc-js ends without any status is Canceled, or DeadlineExceeded at its deadline; a late status does not count again', async () => {
    const { registry, open, handled } = setUp();
    const cancelled = open();
    cancelled.base.listener.onCancel();
    cancelled.call.sendStatus({ code: grpc.status.CANCELLED, details: 'the handler noticed' });
    const timedOut = open(Date.now() - 1);
    timedOut.base.listener.onCancel();
    assert.equal(await handled('Canceled'), 1);
    assert.equal(await handled('DeadlineExceeded'), 1);
    const text = await registry.metrics();
    assert.match(text, /grpc_server_started_total\{[^}]*\} 2\n/);
    assert.match(text, /gatehouse_inflight_calls\{grpc_service="test\.v1\.Svc",grpc_method="Get"\} 0\n/);
    assert.match(text, /grpc_server_handling_seconds_count\{[^}]*\} 2\n/);
    assert.match(text, /grpc_server_handling_seconds_bucket\{[^}]*le="0\.005"\} 2\n/, 'both calls took under 5 ms');
  });
});
