import type { Metadata, ServerInterceptor } from '@grpc/grpc-js';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  isSpanContextValid,
  propagation,
  trace,
  type Attributes,
  type Span,
  type TextMapGetter,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import { callStateOf } from './call-state.js';
import { effectiveDeadlineMs, resolveOutcomeCode } from './call-outcome.js';
import { ForwardingCall, type PartialStatus } from './forwarding-call.js';
import { CODE_NAMES, methodNames } from './method-names.js';

/** Options for {@link createTracingInterceptor}. */
export interface TracingInterceptorOptions {
  /**
   * Makes the server spans. Omit it when no SDK runs: the layer then only lifts
   * the incoming trace id for logs and makes no span at all. A tracer whose
   * spans do not record (the API's no-op tracer, or one sampled out) costs a
   * span object per call and nothing more.
   */
  tracer?: Tracer;
  /** Reads `traceparent`/`tracestate` from request metadata. Default: the API's global propagator (a no-op until an SDK sets one). */
  propagator?: TextMapPropagator;
  /** Wall clock in epoch ms, to tell a timed-out call from a cancelled one. Default `Date.now`. */
  wallClockMs?: () => number;
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

/** Span name and the attributes fixed per method, computed once per method. */
interface MethodSpanInfo {
  name: string;
  attributes: Attributes;
}

/**
 * One SERVER span per call, named `package.Service/Method` and attributed per
 * the OpenTelemetry RPC semantic conventions (`rpc.system`=`grpc`,
 * `rpc.service`, `rpc.method`, `rpc.grpc.status_code`), child of the incoming
 * W3C `traceparent` when there is one. The trace id goes on the call state
 * for logs and INTERNAL replies.
 *
 * With no SDK (no tracer given) the layer does only the metadata lookup; with
 * a tracer whose spans do not record it also skips attributes, status and timing.
 */
export function createTracingInterceptor(options: TracingInterceptorOptions): ServerInterceptor {
  const tracer = options.tracer;
  const propagator = options.propagator ?? propagation;
  const wallClock = options.wallClockMs ?? Date.now;
  const byPath = new Map<string, MethodSpanInfo>();
  const infoFor = (path: string): MethodSpanInfo => {
    let info = byPath.get(path);
    if (info === undefined) {
      const names = methodNames(path, false, false);
      info = {
        name: `${names.service}/${names.method}`,
        attributes: Object.freeze({ 'rpc.system': 'grpc', 'rpc.service': names.service, 'rpc.method': names.method }),
      };
      byPath.set(path, info);
    }
    return info;
  };

  /** No SDK: only the caller's trace id, so logs can be joined with the caller's trace. */
  class TraceIdCall extends ForwardingCall {
    override onReceiveMetadata(metadata: Metadata): void {
      const spanContext = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, metadata, metadataGetter));
      if (spanContext !== undefined && isSpanContextValid(spanContext)) callStateOf(metadata).traceId = spanContext.traceId;
      this.listener.onReceiveMetadata(metadata);
    }
  }

  if (tracer === undefined) return (_method, call) => new TraceIdCall(call).asInterceptingCall();
  const spanTracer: Tracer = tracer;

  class TracingCall extends ForwardingCall {
    private span: Span | undefined;
    private seenCode = -1;
    private seenDetails: string | undefined;
    private metadata: Metadata | undefined;

    constructor(next: ConstructorParameters<typeof ForwardingCall>[0], private readonly info: MethodSpanInfo) {
      super(next);
    }

    override onReceiveMetadata(metadata: Metadata): void {
      const parent = propagator.extract(ROOT_CONTEXT, metadata, metadataGetter);
      const span = spanTracer.startSpan(this.info.name, { kind: SpanKind.SERVER, attributes: this.info.attributes }, parent);
      const spanContext = span.spanContext();
      // A non-recording span still carries an incoming trace id: logs can be joined with the caller's trace.
      if (spanContext.traceId !== '00000000000000000000000000000000') callStateOf(metadata).traceId = spanContext.traceId;
      if (span.isRecording()) {
        this.span = span;
        this.metadata = metadata;
        const connection = this.next.getConnectionInfo();
        if (connection.remoteAddress !== undefined) span.setAttribute('network.peer.address', connection.remoteAddress);
        if (connection.remotePort !== undefined) span.setAttribute('network.peer.port', connection.remotePort);
      }
      this.listener.onReceiveMetadata(metadata);
    }
    override sendStatus(status: PartialStatus): void {
      if (this.span !== undefined && this.seenCode < 0) {
        this.seenCode = status.code;
        this.seenDetails = status.details;
      }
      this.next.sendStatus(status);
    }
    override onCancel(): void {
      const span = this.span;
      if (span !== undefined) {
        this.span = undefined;
        const code = resolveOutcomeCode(this.metadata, this.seenCode, effectiveDeadlineMs(this.metadata, this.next.getDeadline()), wallClock());
        span.setAttribute('rpc.grpc.status_code', code);
        if (SERVER_ERROR_CODES.has(code)) {
          const wire = this.metadata === undefined ? undefined : callStateOf(this.metadata).wireStatus;
          span.setStatus({ code: SpanStatusCode.ERROR, message: wire?.details ?? this.seenDetails ?? CODE_NAMES[code] });
        }
        span.end();
      }
      this.listener.onCancel();
    }
  }

  return (method, call) => new TracingCall(call, infoFor(method.path)).asInterceptingCall();
}
