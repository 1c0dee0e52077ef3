import { Metadata } from '@grpc/grpc-js';
import { ROOT_CONTEXT, isSpanContextValid, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { incomingTraceId, metadataGetter } from '../../interceptors/tracing.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('incomingTraceId (the no-SDK path)', () => {
  it('accepts and refuses exactly what the W3C Trace Context propagator does', () => {
    const propagator = new W3CTraceContextPropagator();
    const cases = [
      VALID,
      ` ${VALID} `,
      `ff${VALID.slice(2)}`,
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      `${VALID}-x`,
      `01${VALID.slice(2)}-x`,
      `01${VALID.slice(2)}x`,
      VALID.toUpperCase(),
      '',
      'garbage',
      VALID.slice(0, -1),
      `0a${VALID.slice(2)}`,
      `${VALID.slice(0, 10)}g${VALID.slice(11)}`,
      ` ${VALID}`,
      `${VALID} `,
      `  ${VALID}`,
      `${VALID}  `,
      `01${VALID.slice(2)}-x `,
      `01${VALID.slice(2)}-x y`,
      `00${VALID.slice(2)} `,
      `00${VALID.slice(2)}-`,
      `01${VALID.slice(2)}-`,
      `${VALID}x`,
      `${VALID.slice(0, 35)}-${VALID.slice(36)}`,
    ];
    for (const value of cases) {
      const metadata = new Metadata();
      metadata.set('traceparent', value);
      const context = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, metadata, metadataGetter));
      const expected = context !== undefined && isSpanContextValid(context) ? context.traceId : undefined;
      assert.equal(incomingTraceId(metadata), expected, JSON.stringify(value));
    }
    assert.equal(incomingTraceId(new Metadata()), undefined);
  });
});
