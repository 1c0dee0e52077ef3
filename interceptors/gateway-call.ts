import { status as Status, type Metadata, type ServerInterceptingCallInterface, type ServerInterceptor } from '@grpc/grpc-js';
import type { Span } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { attachCallState, type CallState, type TokenPrincipal } from './call-state.js';
import {
  asServerInterceptingCall,
  deadlineMs,
  http2StreamOf,
  messageSize,
  observeWireStatus,
  whenStreamClosed,
  type AuthContext,
  type ConnectionInfo,
  type InterceptingServerListener,
  type PartialStatus,
  type PerRequestMetricRecorder,
  type WireStatusObserver,
} from './grpc-compat.js';
import type { DeadlineQueue, QueuedCall } from './deadline-queue.js';
import { methodNames, type MethodNames } from './method-names.js';
import type { PeerIdentity } from './peer-identity.js';

/** The steps a gateway chain is made of, in the order src/chain.ts runs them. */
export const STEP_NAMES = [
  'outcome',
  'tracing',
  'metrics',
  'accessLog',
  'status',
  'metadataLimits',
  'deadline',
  'authentication',
  'authorization',
  'streamCap',
  'rateLimit',
] as const;
/** One of {@link STEP_NAMES}. */
export type StepName = (typeof STEP_NAMES)[number];

/**
 * What a step decides when the request headers arrive: `undefined` lets the
 * call go on to the next step, a status refuses it (sent at once; the handler
 * never starts), a promise of either makes the call wait (its messages are
 * held) until the step has decided. Keep the common path synchronous.
 */
export type Admission = PartialStatus | undefined | Promise<PartialStatus | undefined>;

/** What one step does for one method; prepared once per method, so the per-call path has no lookups. */
export interface MethodHooks {
  /** Runs when the request headers arrive, in chain order. */
  admit?(call: GatewayCall): Admission;
  /** Runs once when the call is over (grpc-js's `onCancel`), after `call.code` is known, in chain order. */
  end?(call: GatewayCall): void;
}

/** One step of the chain: plain functions on the per-call object, no grpc-js layer of its own. */
export interface Step {
  readonly name: StepName;
  /** The step's hooks for `method`, or undefined when it does nothing there (exempt, unlimited, ...). Called once per method. */
  forMethod(method: MethodNames): MethodHooks | undefined;
  /** Rewrites a non-OK status leaving the handler or a refusal (status normalisation). At most one step has it. */
  readonly outbound?: (status: PartialStatus, call: GatewayCall) => PartialStatus;
  /** Rewrites every non-OK status as it goes on the wire (grpc-js's own included); a step with it turns on wire observation. */
  readonly wire?: (status: PartialStatus, requestMetadata?: Metadata) => PartialStatus;
}

/** Options for {@link createGatewayInterceptor}. */
export interface GatewayInterceptorOptions {
  /** The steps, outermost first. */
  steps: readonly Step[];
  /** Every method the server hosts (`/pkg.Service/Method` with its streaming flags), prepared at start. Others are prepared on first call. */
  methods?: readonly MethodNames[];
  /** Counts message bytes each way (the server records sizes with grpc-compat's `recordMessageSizes`). Default false. */
  messageBytes?: boolean;
}

/** A method's prepared plan: the hooks of every step that acts on it, in order. */
interface MethodPlan {
  readonly names: MethodNames;
  readonly admits: readonly ((call: GatewayCall) => Admission)[];
  readonly ends: readonly ((call: GatewayCall) => void)[];
}

/** What every call of one interceptor shares. */
interface Shared {
  readonly outbound: ((status: PartialStatus, call: GatewayCall) => PartialStatus) | undefined;
  readonly wire: ((status: PartialStatus, requestMetadata?: Metadata) => PartialStatus) | undefined;
  readonly observeWire: boolean;
  readonly messageBytes: boolean;
}

/**
 * How close to its deadline a call must end, without any status, to count as
 * timed out rather than cancelled, in ms. A client that gives up at its
 * deadline resets the stream exactly as one that cancels does, and the
 * server's copy of the deadline (taken when the headers arrived) runs late by
 * the request's travel and queueing time, so the reset often lands a little
 * before it.
 */
export const DEADLINE_TOLERANCE_MS = 100;

const ADMITTING = 0;
const OPEN = 1;
const WAITING = 2;
const REFUSED = 3;

/**
 * The one grpc-js interceptor of a gateway: each call gets one
 * {@link GatewayCall}, which is at once the call (outbound), the listener
 * (inbound) and the per-call state every step reads and writes. The steps run
 * as plain functions in their order; per method, the list of hooks that apply
 * is prepared once, so an exempt or unlimited method costs nothing per call.
 */
export function createGatewayInterceptor(options: GatewayInterceptorOptions): ServerInterceptor {
  const steps = options.steps;
  const outbound = steps.find((step) => step.outbound !== undefined)?.outbound;
  const wireStep = steps.find((step) => step.wire !== undefined);
  const shared: Shared = { outbound, wire: wireStep?.wire, observeWire: wireStep !== undefined, messageBytes: options.messageBytes ?? false };
  const plans = new Map<string, MethodPlan>();
  const planFor = (names: MethodNames): MethodPlan => {
    const admits: ((call: GatewayCall) => Admission)[] = [];
    const ends: ((call: GatewayCall) => void)[] = [];
    for (const step of steps) {
      const hooks = step.forMethod(names);
      if (hooks?.admit) admits.push(hooks.admit.bind(hooks));
      if (hooks?.end) ends.push(hooks.end.bind(hooks));
    }
    const plan: MethodPlan = { names, admits, ends };
    plans.set(names.path, plan);
    return plan;
  };
  for (const names of options.methods ?? []) planFor(names);
  return (method, call) => {
    const plan = plans.get(method.path) ?? planFor(methodNames(method.path, method.requestStream, method.responseStream));
    return asServerInterceptingCall(new GatewayCall(call, plan, shared));
  };
}

/**
 * One call: the grpc-js call object the handler talks to, the listener
 * grpc-js's base call talks to, and the typed per-call state (it is what
 * `peekCallState(call.metadata)` returns to handlers). Fields are grouped by
 * the step that owns them; steps read and write them directly.
 */
export class GatewayCall implements ServerInterceptingCallInterface, InterceptingServerListener, WireStatusObserver, CallState, QueuedCall {
  // --- the call itself
  /** The method's names (path, service, method, kind), shared by every call of the method. */
  readonly method: MethodNames;
  /** Request metadata, once the headers arrived. */
  metadata: Metadata | undefined = undefined;
  /** performance.now() when the headers arrived; -1 before (grpc-js skips listeners of a stream closed before start). */
  startMs = -1;
  /** The status code the call ended with, resolved once in `onCancel` before any `end` hook runs; -1 before. */
  code = -1;
  /** The status text the client got (or the handler sent, when grpc-js did not tell), for logs and spans. */
  details: string | undefined = undefined;
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Live per-method message counters (the metrics step's), bumped as messages pass. */
  counters: { received: number; sent: number } | undefined = undefined;

  // --- CallState (handlers read these through peekCallState)
  peer: PeerIdentity | undefined = undefined;
  principal: TokenPrincipal | undefined = undefined;
  traceId: string | undefined = undefined;
  internalError: { referenceId: string; cause: unknown } | undefined = undefined;
  callOver = false;
  onCallEnded: (() => void) | undefined = undefined;
  /** The upstream a routed call went to (src/upstream/), for the access log. */
  upstream: string | undefined = undefined;

  // --- tracing step
  span: Span | undefined = undefined;

  // --- deadline step: the effective deadline, epoch ms (NaN until the step ran), and the call's place in a deadline queue
  deadlineAtMs = NaN;
  /** Date.now() when the deadline step ran. */
  startWallMs = 0;
  /** Why the deadline is what it is, for the message when it passes. */
  deadlineSource: 'client' | 'server default' | 'server maximum' = 'client';
  /** The status sent when the deadline queue ends the call. */
  expiry: ((call: GatewayCall) => PartialStatus) | undefined = undefined;
  /** Set by the deadline queue holding the call (deadline-queue.ts). */
  queue: DeadlineQueue | undefined = undefined;
  queuePrev: QueuedCall | undefined = undefined;
  queueNext: QueuedCall | undefined = undefined;
  /** Monotonic ms at which the deadline queue ends the call. */
  queueAtMs = 0;

  // --- stream cap step: the per-connection count this call holds a place in
  capSlot: { release(call: GatewayCall): void } | undefined = undefined;

  private listener: InterceptingServerListener | undefined = undefined;
  private phase = ADMITTING;
  /** A status went out (or was refused at the door): later statuses and messages from the handler are dropped. */
  private ended = false;
  private seenCode = -1;
  private wireCode = -1;
  private wireObserved = false;
  private held: unknown[] | undefined = undefined;
  private heldHalfClose = false;

  constructor(
    private readonly base: ServerInterceptingCallInterface,
    private readonly plan: MethodPlan,
    private readonly shared: Shared,
  ) {
    this.method = plan.names;
    if (shared.observeWire) this.wireObserved = observeWireStatus(base);
  }

  /** The effective deadline (the handler's `ctx.deadline`); allocated only when asked. */
  get deadline(): Date | undefined {
    const at = this.effectiveDeadlineMs();
    return Number.isFinite(at) ? new Date(at) : undefined;
  }

  /** The HTTP/2 stream of the call, as a key for what the HTTP/2 layer noted about it; undefined when unknown. */
  get http2Stream(): object | undefined {
    return http2StreamOf(this.base);
  }

  /** The client connection (its HTTP/2 session) as an opaque key for per-connection memos; undefined when unknown. */
  get connection(): object | undefined {
    return http2StreamOf(this.base)?.session;
  }

  /** The code of a call that ended without the handler's status (CANCELLED or DEADLINE_EXCEEDED), for handlers' abort reason. */
  get endCode(): number {
    return this.code;
  }

  /** The effective deadline in epoch ms: the deadline step's, else the client's; Infinity when none. */
  effectiveDeadlineMs(): number {
    return Number.isNaN(this.deadlineAtMs) ? deadlineMs(this.base.getDeadline()) : this.deadlineAtMs;
  }

  /** The deadline queue says the deadline passed: the client gets DEADLINE_EXCEEDED now; `onCancel` follows. */
  expire(): void {
    if (!this.ended && this.expiry !== undefined) this.sendStatus(this.expiry(this));
  }

  // --- inbound: grpc-js's base call talks to these

  onReceiveMetadata(metadata: Metadata): void {
    this.metadata = metadata;
    attachCallState(metadata, this);
    this.startMs = performance.now();
    this.admitFrom(0);
  }

  onReceiveMessage(message: unknown): void {
    this.messagesIn++;
    if (this.counters !== undefined) this.counters.received++;
    if (this.shared.messageBytes) this.bytesIn += messageSize(message) ?? 0;
    if (this.phase === OPEN) this.listener!.onReceiveMessage(message);
    else if (this.phase === WAITING) (this.held ??= []).push(message);
  }

  onReceiveHalfClose(): void {
    if (this.phase === OPEN) this.listener!.onReceiveHalfClose();
    else if (this.phase === WAITING) this.heldHalfClose = true;
  }

  /** Fires once at the end of every call, normal or not (DESIGN.md). */
  onCancel(): void {
    this.callOver = true;
    if (this.startMs >= 0 && this.code < 0) {
      this.code = this.resolveCode();
      // A non-OK status may have gone out in the same moment the client reset the stream (rapid reset: headers
      // and RST_STREAM together): the reset is known once the stream has closed, often a little later. Only then
      // do metrics and logs learn the code, so such calls count as CANCELLED, not as the status nobody read.
      // DEADLINE_EXCEEDED stays: the client's own deadline fires at the same moment and resets the stream, so a
      // reset then means the client saw its deadline too (Node 24 reads that reset before the stream closes).
      if (this.code !== Status.OK && this.code !== Status.DEADLINE_EXCEEDED && this.wireCode >= 0)
        whenStreamClosed(this.base, finishAfterClose, this);
      else this.finish();
    }
    this.queue?.remove(this);
    this.capSlot?.release(this);
    const ended = this.onCallEnded;
    if (ended !== undefined) {
      this.onCallEnded = undefined;
      ended();
    }
    this.listener?.onCancel();
  }

  /** Runs the steps' end hooks, once the code is final. */
  finish(): void {
    const ends = this.plan.ends;
    for (let i = 0; i < ends.length; i++) ends[i]!(this);
  }

  // --- outbound: the handler (through grpc-js's server code) talks to these

  start(listener: InterceptingServerListener): void {
    this.listener = listener;
    this.base.start(this);
  }

  sendMetadata(metadata: Metadata): void {
    this.base.sendMetadata(metadata);
  }

  sendMessage(message: unknown, callback: () => void): void {
    // As grpc-js does once a call is over: the write is dropped and its callback never runs.
    if (this.ended) return;
    this.messagesOut++;
    if (this.counters !== undefined) this.counters.sent++;
    this.base.sendMessage(message, callback);
    // grpc-js serializes synchronously inside sendMessage, so the size is known by now.
    if (this.shared.messageBytes) this.bytesOut += messageSize(message) ?? 0;
  }

  sendStatus(status: PartialStatus): void {
    if (this.ended) return;
    this.ended = true;
    let sent = status;
    const outbound = this.shared.outbound;
    if (outbound !== undefined && sent.code !== Status.OK) sent = outbound(sent, this);
    if (this.seenCode < 0) {
      this.seenCode = sent.code;
      if (this.wireCode < 0) this.details = sent.details;
    }
    this.base.sendStatus(sent);
  }

  startRead(): void {
    this.base.startRead();
  }
  getPeer(): string {
    return this.base.getPeer();
  }
  getDeadline(): ReturnType<ServerInterceptingCallInterface['getDeadline']> {
    return this.base.getDeadline();
  }
  getHost(): string {
    return this.base.getHost();
  }
  getAuthContext(): AuthContext {
    return this.base.getAuthContext();
  }
  getConnectionInfo(): ConnectionInfo {
    return this.base.getConnectionInfo();
  }
  getMetricsRecorder(): PerRequestMetricRecorder {
    return this.base.getMetricsRecorder();
  }

  /** grpc-js's base call is about to write `status` (grpc-compat.ts): the one record of what the client got. */
  onWireStatus(status: PartialStatus): PartialStatus {
    if (!this.wireObserved) return status; // the outcome step is off: another gateway's prototype hook, not ours to record
    let written = status;
    const wire = this.shared.wire;
    if (wire !== undefined && status.code !== Status.OK) written = wire(status, this.metadata);
    if (this.wireCode < 0) {
      this.wireCode = written.code;
      this.details = written.details ?? '';
    }
    return written;
  }

  // --- admission

  private admitFrom(index: number): void {
    const admits = this.plan.admits;
    for (let i = index; i < admits.length; i++) {
      const verdict = admits[i]!(this);
      if (verdict === undefined) continue;
      if (isPromise(verdict)) {
        this.phase = WAITING;
        verdict.then(
          (decided) => this.resume(decided, i + 1),
          () => this.resume({ code: Status.INTERNAL, details: 'a step of the gateway failed while admitting the call' }, i + 1),
        );
        return;
      }
      this.refuse(verdict);
      return;
    }
    this.open();
  }

  private resume(decided: PartialStatus | undefined, next: number): void {
    if (this.ended || this.callOver) {
      this.held = undefined;
      return;
    }
    if (decided === undefined) this.admitFrom(next);
    else this.refuse(decided);
  }

  private refuse(status: PartialStatus): void {
    this.phase = REFUSED;
    this.held = undefined;
    this.sendStatus(status);
  }

  private open(): void {
    const waited = this.phase === WAITING;
    this.phase = OPEN;
    const listener = this.listener!;
    listener.onReceiveMetadata(this.metadata!);
    if (!waited) return;
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) for (const message of held) listener.onReceiveMessage(message);
    if (this.heldHalfClose) listener.onReceiveHalfClose();
  }

  /**
   * What the call ended with: what grpc-js wrote, when the outcome step saw it;
   * without it (the step is off or grpc-js changed), what the handler sent;
   * else, the call ended without any status written: DEADLINE_EXCEEDED when its
   * deadline has passed or is within {@link DEADLINE_TOLERANCE_MS}, CANCELLED
   * otherwise (the client went away, or reset the stream before the reply).
   */
  private resolveCode(): number {
    if (this.wireCode >= 0) return this.wireCode;
    if (!this.wireObserved && this.seenCode >= 0) return this.seenCode;
    this.details = undefined; // whatever the handler tried to send never reached the client
    return Date.now() >= this.effectiveDeadlineMs() - DEADLINE_TOLERANCE_MS ? Status.DEADLINE_EXCEEDED : Status.CANCELLED;
  }
}

/** The stream closed after a non-OK status: reset by the client, the call was CANCELLED (it never read the status). */
function finishAfterClose(reset: boolean, call: GatewayCall): void {
  if (reset) {
    call.code = Status.CANCELLED;
    call.details = undefined;
  }
  call.finish();
}

function isPromise(value: object): value is Promise<PartialStatus | undefined> {
  return typeof (value as { then?: unknown }).then === 'function';
}
