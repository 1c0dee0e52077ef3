import * as grpc from '@grpc/grpc-js';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTelemetry } from '../../src/telemetry/telemetry.js';
import { waitForHealth } from '../helpers/health-client.js';
import { join } from 'node:path';
import {
  generateUpstreamContracts,
  startPythonUpstream,
  UPSTREAM_FIXTURES,
  type PythonUpstream,
  type UpstreamContracts,
} from '../helpers/python-upstream.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

describe('a routed call with tracing on', () => {
  const exporter = new InMemorySpanExporter();
  let contracts: UpstreamContracts;
  let upstream: PythonUpstream;
  let gw: TestGateway;

  before(async () => {
    contracts = generateUpstreamContracts();
    upstream = await startPythonUpstream(contracts);
    const telemetry = createTelemetry({
      config: { mode: 'auto', serviceName: 'gatehouse-test' },
      env: {},
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    gw = await startGateway({
      telemetry,
      overrides: {
        // A dns:/// target (grpc-js resolves and balances it) and methods from .proto files parsed at start.
        upstreams: { py: { targets: [`dns:///localhost:${upstream.port}`] } },
        routes: [{ service: 'helloworld.Greeter', upstream: 'py', protoFiles: [join(UPSTREAM_FIXTURES, 'helloworld.proto')] }],
        'policy.services': { 'helloworld.Greeter': {} },
      },
    });
    await waitForHealth(gw.target, gw.credentials('alice'), 'SERVING', 10_000, 'helloworld.Greeter');
  });

  after(async () => {
    await gw?.close();
    await upstream?.kill();
    contracts?.remove();
  });

  test("the upstream gets the gateway span as its parent, in the caller's trace", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), {
      'grpc.ssl_target_name_override': 'localhost',
    }) as unknown as grpc.Client & {
      SayHello(r: { name: string }, m: grpc.Metadata, cb: (e: grpc.ServiceError | null) => void): void;
    };
    const metadata = new grpc.Metadata();
    metadata.set('traceparent', `00-${traceId}-${callerSpan}-01`);
    await new Promise<void>((resolve, reject) => greeter.SayHello({ name: 'traced' }, metadata, (e) => (e ? reject(e) : resolve())));
    greeter.close();
    for (let i = 0; i < 50 && exporter.getFinishedSpans().length === 0; i++) await sleep(10);
    const span = exporter.getFinishedSpans().find((s) => s.name === 'helloworld.Greeter/SayHello');
    assert.ok(span, 'no gateway span');
    assert.equal(span.spanContext().traceId, traceId);
    const seen = (await upstream.calls()).find((c) => c.name === 'traced')!;
    const sent = seen.metadata.filter(([k]) => k === 'traceparent').map(([, v]) => v);
    assert.deepEqual(sent, [`00-${traceId}-${span.spanContext().spanId}-01`]);
  });
});
