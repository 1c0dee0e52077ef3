import type { Metadata } from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Attributes, type TextMapGetter, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import type { GatewayCall, MethodHooks, Step } from './gateway-call.js';
import { CODE_NAMES } from './method-names.js';

/** Options for {@link createTracingStep}. */
export interface TracingStepOptions {
  /**
   * Makes the server spans. Omit it when no SDK runs: the step then only lifts
   * the incoming W3C trace id for logs and makes no span at all. A tracer whose
   * spans do not record (the API's no-op tracer, or one sampled out) costs a
   * span object per call and nothing more.
   */
  tracer?: Tracer;
  /** Reads `traceparent`/`tracestate` from request metadata when a tracer is given. Required with `tracer`. */
  propagator?: TextMapPropagator;
}

/** Reads W3C trace context headers out of grpc-js request metadata. */
export const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get(carrier, key) {
    const values = carrier.get(key);
    if (values.length === 0) return undefined;
    return values.length === 1 ? String(values[0]) : values.map(String);
  },
};

/**
 * gRPC codes whose server spans get status Error, per the OpenTelemetry RPC
 * semantic conventions for gRPC servers: UNKNOWN, DEADLINE_EXCEEDED,
 * UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. Client-caused codes leave
 * the status unset.
 */
const SERVER_ERROR_CODES: ReadonlySet<number> = new Set([2, 4, 12, 13, 14, 15]);

/** version-traceid-parentid-flags in lowercase hex, anything after a further dash (later versions), one optional whitespace either side. */
const TRACEPARENT = /^\s?[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(?:-.*)?\s?$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

/**
 * The trace id of a valid incoming W3C `traceparent`, accepted as the W3C
 * Trace Context propagator accepts it: lowercase hex, version ff and all-zero
 * ids invalid, nothing after the flags for version 00, one optional
 * whitespace either side. One precompiled regular expression does the shape (header
 * values come from Node's HTTP/2 layer as strings that V8's regex engine reads
 * faster than a charCodeAt loop does, measured with bench/external); the only
 * allocation is the trace id itself.
 */
export function incomingTraceId(metadata: Metadata): string | undefined {
  const values = metadata.get('traceparent');
  if (values.length === 0) return undefined;
  const value = values[0];
  if (typeof value !== 'string' || !TRACEPARENT.test(value)) return undefined;
  // The shape is known: a dash at 2 means no leading whitespace.
  const start = value.charCodeAt(2) === 45 ? 0 : 1;
  if (value.startsWith('ff', start)) return undefined;
  // Version 00 has nothing after its flags.
  if (value.startsWith('00', start) && value.charCodeAt(start + 55) === 45) return undefined;
  if (value.startsWith(ZERO_PARENT_ID, start + 36)) return undefined;
  const traceId = value.slice(start + 3, start + 35);
  return traceId === ZERO_TRACE_ID ? undefined : traceId;
}

/**
 * One SERVER span per call, named `package.Service/Method` and attributed per
 * the OpenTelemetry RPC semantic conventions (`rpc.system`=`grpc`,
 * `rpc.service`, `rpc.method`, `rpc.grpc.status_code`), child of the incoming
 * W3C `traceparent` when there is one. The trace id goes on the call state
 * for logs and INTERNAL replies, before any later step runs.
 *
 * With no SDK (no tracer given) the step only reads the trace id; with a
 * tracer whose spans do not record it also skips attributes, status and timing.
 */
export function createTracingStep(options: TracingStepOptions): Step {
  const tracer = options.tracer;
  if (tracer === undefined) {
    const hooks: MethodHooks = {
      admit(call) {
        call.traceId = incomingTraceId(call.metadata!);
        return undefined;
      },
    };
    return { name: 'tracing', forMethod: () => hooks };
  }
  const propagator = options.propagator;
  if (propagator === undefined) throw new Error('tracing: a tracer needs a propagator');
  return {
    name: 'tracing',
    forMethod(names) {
      // Span name and the attributes fixed per method, computed once per method.
      const name = `${names.service}/${names.method}`;
      const attributes: Attributes = Object.freeze({ 'rpc.system': 'grpc', 'rpc.service': names.service, 'rpc.method': names.method });
      return {
        admit(call) {
          const parent = propagator.extract(ROOT_CONTEXT, call.metadata!, metadataGetter);
          const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
          const traceId = span.spanContext().traceId;
          // A non-recording span still carries an incoming trace id: logs can be joined with the caller's trace.
          if (traceId !== '00000000000000000000000000000000') call.traceId = traceId;
          if (span.isRecording()) {
            call.span = span;
            const connection = call.getConnectionInfo();
            if (connection.remoteAddress !== undefined) span.setAttribute('network.peer.address', connection.remoteAddress);
            if (connection.remotePort !== undefined) span.setAttribute('network.peer.port', connection.remotePort);
          }
          return undefined;
        },
        end: endSpan,
      };
    },
  };
}

function endSpan(call: GatewayCall): void {
  const span = call.span;
  if (span === undefined) return;
  call.span = undefined;
  const code = call.code;
  span.setAttribute('rpc.grpc.status_code', code);
  if (SERVER_ERROR_CODES.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: call.details ?? CODE_NAMES[code] });
  span.end();
}
