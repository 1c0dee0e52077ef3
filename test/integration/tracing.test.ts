import * as grpc from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { callUnary, openServerStream } from '../../src/client/grpc-client.js';
import { createTelemetry, sdkWanted } from '../../src/telemetry/telemetry.js';
import { assertRejects } from '../helpers/assert-status.js';
import { createSlowService, SLOW_SERVICE, SlowClient } from '../helpers/slow-service.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';
const PARENT_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN_ID = 'b7ad6b7169203331';

describe('tracing with an in-memory exporter', () => {
  const exporter = new InMemorySpanExporter();
  let gw: TestGateway;
  let cheese: grpc.Client;
  let slow: grpc.Client;
  before(async () => {
    const telemetry = createTelemetry({
      config: { mode: 'auto', serviceName: 'gatehouse-test' },
      env: {},
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    gw = await startGateway({
      telemetry,
      extraServices: [createSlowService()],
      overrides: { 'policy.services': { [SLOW_SERVICE]: { requireToken: false } } },
    });
    cheese = gw.client(CHEESE, 'alice');
    slow = new SlowClient(gw.target, gw.credentials('alice'), { 'grpc.ssl_target_name_override': 'localhost' });
  });
  after(async () => {
    slow?.close();
    await gw?.close();
  });

  /**
   * The one span of the next call, waiting for onCancel (which ends spans) to run. `call` must settle the way the
   * client expects (wrap a failing call in assertRejects): its rejection fails the test instead of being ignored.
   */
  async function spanOf(call: () => Promise<unknown>): Promise<ReadableSpan> {
    exporter.reset();
    await call();
    for (let i = 0; i < 50 && exporter.getFinishedSpans().length === 0; i++) await sleep(10);
    await sleep(20);
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 1, `expected one span, got ${spans.map((s) => s.name).join(', ')}`);
    return spans[0]!;
  }

  it('a call gets one SERVER span named and attributed per the RPC conventions, child of the incoming traceparent', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('traceparent', `00-${PARENT_TRACE_ID}-${PARENT_SPAN_ID}-01`);
    metadata.set('tracestate', 'vendor=opaque');
    const span = await spanOf(() => callUnary(cheese, 'order', { type: 'BRIE', age: 6, idempotencyKey: 'trace-1' }, { metadata }));
    assert.equal(span.name, `${CHEESE}/Order`);
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.attributes['rpc.system'], 'grpc');
    assert.equal(span.attributes['rpc.service'], CHEESE);
    assert.equal(span.attributes['rpc.method'], 'Order');
    assert.equal(span.attributes['rpc.grpc.status_code'], grpc.status.OK);
    assert.equal(span.attributes['network.peer.address'], '127.0.0.1');
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.spanContext().traceId, PARENT_TRACE_ID);
    assert.equal(span.parentSpanContext?.spanId, PARENT_SPAN_ID);
    assert.equal(span.parentSpanContext?.isRemote, true);
    assert.equal(span.spanContext().traceState?.get('vendor'), 'opaque');
    assert.equal(span.resource.attributes['service.name'], 'gatehouse-test');
    const line = gw.logs.filter((l) => l.msg === 'grpc call' && l.method === `/${CHEESE}/Order`).at(-1);
    assert.equal(line?.traceId, PARENT_TRACE_ID, 'the access log does not carry the trace id');
  });

  it('without a traceparent the span is a root with a fresh trace id', async () => {
    const span = await spanOf(() => callUnary(cheese, 'listOrders', {}));
    assert.equal(span.attributes['rpc.grpc.status_code'], grpc.status.OK);
    assert.equal(span.parentSpanContext, undefined);
    assert.match(span.spanContext().traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(span.spanContext().traceId, PARENT_TRACE_ID);
  });

  it('client errors leave the span status unset; server errors set it to Error', async () => {
    const invalid = await spanOf(() =>
      assertRejects(callUnary(cheese, 'order', { age: 0, idempotencyKey: '' }), 'INVALID_ARGUMENT', /age must be 1 to 120/),
    );
    assert.equal(invalid.attributes['rpc.grpc.status_code'], grpc.status.INVALID_ARGUMENT);
    assert.equal(invalid.status.code, SpanStatusCode.UNSET);

    let internalMessage = '';
    const internal = await spanOf(async () => {
      internalMessage = (
        await assertRejects(callUnary(slow, 'Work', { crash: 'boom' }), 'INTERNAL', /^internal error \(reference [0-9a-f]{12}, trace [0-9a-f]{32}\)/)
      ).error.details;
    });
    assert.equal(internal.attributes['rpc.grpc.status_code'], grpc.status.INTERNAL);
    assert.equal(internal.status.code, SpanStatusCode.ERROR);
    assert.match(internal.status.message ?? '', new RegExp(`trace ${internal.spanContext().traceId}`));
    assert.match(internalMessage, new RegExp(`trace ${internal.spanContext().traceId}\\)`), 'the client is told the same trace id');
  });

  it('calls grpc-js ends by itself get a span with the right code: deadline (Error) and client cancel (unset)', async () => {
    const timedOut = await spanOf(() =>
      assertRejects(
        new Promise((resolve, reject) => {
          const stream = openServerStream(cheese, 'watchOrders', {}, { deadline: 150 });
          stream.on('data', () => undefined);
          stream.on('error', reject);
          stream.on('end', resolve);
        }),
        'DEADLINE_EXCEEDED',
      ),
    );
    assert.equal(timedOut.name, `${CHEESE}/WatchOrders`);
    assert.equal(timedOut.attributes['rpc.grpc.status_code'], grpc.status.DEADLINE_EXCEEDED);
    assert.equal(timedOut.status.code, SpanStatusCode.ERROR);

    const cancelled = await spanOf(async () => {
      const stream = openServerStream(cheese, 'watchOrders', {});
      stream.on('data', () => undefined);
      stream.on('error', () => undefined);
      await sleep(100);
      stream.cancel();
    });
    assert.equal(cancelled.attributes['rpc.grpc.status_code'], grpc.status.CANCELLED);
    assert.equal(cancelled.status.code, SpanStatusCode.UNSET);
  });
});

describe('telemetry setup from OTEL_* environment', () => {
  const config = { mode: 'auto', serviceName: 'gatehouse' } as const;

  it('stays off unless the environment names an exporter or endpoint', () => {
    assert.equal(sdkWanted(config, {}), false);
    assert.equal(sdkWanted(config, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), true);
    assert.equal(sdkWanted(config, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }), true);
    assert.equal(sdkWanted(config, { OTEL_TRACES_EXPORTER: 'console' }), true);
    assert.equal(sdkWanted(config, { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), false);
    assert.equal(sdkWanted(config, { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), false);
    assert.equal(sdkWanted({ ...config, mode: 'off' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), false);
    assert.equal(sdkWanted({ ...config, mode: 'on' }, {}), true);
  });

  it('without the SDK the tracer is the API no-op one and spans do not record', async () => {
    const telemetry = createTelemetry({ config, env: {} });
    assert.equal(telemetry.sdkEnabled, false);
    assert.equal(telemetry.tracer.startSpan('x').isRecording(), false);
    assert.equal(trace.getTracerProvider().getTracer('x').startSpan('y').isRecording(), false, 'something registered a global SDK');
    await telemetry.shutdown();
  });

  it('with an OTLP endpoint it records spans and shuts down promptly even when nothing listens', async () => {
    const telemetry = createTelemetry({ config, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' } });
    assert.equal(telemetry.sdkEnabled, true);
    const span = telemetry.tracer.startSpan('probe');
    assert.equal(span.isRecording(), true);
    span.end();
    const startedAt = Date.now();
    await telemetry.shutdown(1000);
    assert.ok(Date.now() - startedAt < 2000);
  });
});
