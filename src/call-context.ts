import {
  status as Status,
  type Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { peekCallState, type CallState, type TokenPrincipal } from '../interceptors/call-state.js';
import { MAX_TIMER_MS } from '../interceptors/deadline-queue.js';
import { peerIdentityFromCertificate, type PeerIdentity } from '../interceptors/peer-identity.js';
import { GatehouseError } from './errors.js';

/** What a handler knows about its call, besides the request. */
export interface CallContext {
  /** Full method path, `/package.Service/Method`. */
  readonly method: string;
  /** Request metadata (headers). */
  readonly metadata: Metadata;
  /**
   * Fires when the caller is gone: client cancel, deadline, or server drain.
   * Its reason is a GatehouseError. Made on first use: a handler that never
   * asks costs no AbortController.
   */
  readonly signal: AbortSignal;
  /** The effective deadline, when the call has one. */
  readonly deadline: Date | undefined;
  /** The verified client certificate's identity; undefined on insecure or TLS-only listeners without a client cert. */
  readonly peer: PeerIdentity | undefined;
  /** Verified bearer token claims, when the auth step accepted a token. */
  readonly principal: TokenPrincipal | undefined;
  /** Trace id of the call's server span, when tracing is on. */
  readonly traceId: string | undefined;
}

/** Any of the four server call kinds; all carry metadata, deadline, auth context and `cancelled`. */
export type AnyServerCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>;

/** A call context plus what the adapter does when the handler has settled. */
export interface OpenedContext {
  ctx: CallContext;
  /**
   * Call once the handler has settled (idempotent): releases listeners and
   * returns why the call ended early (deadline, cancel) when it did, so the
   * call ends with that reason whatever the handler made of it.
   */
  settle(): GatehouseError | undefined;
}

/**
 * Builds the context for one call. In a gateway (the call has a gateway
 * call state) everything comes from that state and nothing is allocated per
 * call beyond this object: the signal is made only when asked for, and the
 * gateway call tells it when the call ended (client cancel, grpc-js's
 * deadline, the deadline step, a drain). Without one (a server without the
 * chain), the context listens to the call's `cancelled` event and keeps a
 * timer for the client's deadline itself.
 */
export function openCallContext(call: AnyServerCall, method: string): OpenedContext {
  const state = peekCallState(call.metadata);
  if (state !== undefined && state.callOver !== undefined) return new GatewayCallContext(call, method, state);
  return openStandaloneContext(call, method);
}

/** The context of a call run by the gateway interceptor: everything read from its one per-call object. */
class GatewayCallContext implements CallContext, OpenedContext {
  readonly metadata: Metadata;
  private controller: AbortController | undefined;
  private settled = false;

  constructor(
    private readonly call: AnyServerCall,
    readonly method: string,
    private readonly state: CallState,
  ) {
    this.metadata = call.metadata;
  }

  get ctx(): CallContext {
    return this;
  }
  get deadline(): Date | undefined {
    return this.state.deadline;
  }
  get peer(): PeerIdentity | undefined {
    // Exempt methods (health, reflection) were not authenticated: parsed only when a handler asks.
    return this.state.peer ?? peerIdentityFromCertificate(this.call.getAuthContext()?.sslPeerCertificate);
  }
  get principal(): TokenPrincipal | undefined {
    return this.state.principal;
  }
  get traceId(): string | undefined {
    return this.state.traceId;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      const state = this.state;
      if (state.callOver) controller.abort(this.reasonNow());
      else if (!this.settled) state.onCallEnded = () => controller.abort(this.reasonNow());
    }
    return this.controller.signal;
  }

  settle(): GatehouseError | undefined {
    if (this.settled) return undefined;
    this.settled = true;
    const state = this.state;
    if (state.onCallEnded !== undefined) state.onCallEnded = undefined;
    if (this.controller !== undefined) return this.controller.signal.aborted ? (this.controller.signal.reason as GatehouseError) : undefined;
    return state.callOver ? this.reasonNow() : undefined;
  }

  /** The call is over: timed out when the gateway says so, else the client went away. */
  private reasonNow(): GatehouseError {
    return this.state.endCode === Status.DEADLINE_EXCEEDED ? deadlineExceeded() : clientCancelled();
  }
}

/** Without a gateway interceptor: the call's own events and the client's deadline. */
function openStandaloneContext(call: AnyServerCall, method: string): OpenedContext {
  const controller = new AbortController();
  const deadline = toDate(call.getDeadline());
  const abort = (error: GatehouseError) => {
    if (!controller.signal.aborted) controller.abort(error);
  };
  const onCancelled = () => {
    // grpc-js reports its own deadline expiry as a plain cancellation.
    abort(deadline !== undefined && Date.now() >= deadline.getTime() - 1 ? deadlineExceeded() : clientCancelled());
  };
  // Every grpc-js server call is a ServerSurfaceCall, an EventEmitter that emits 'cancelled' (public API).
  const events: NodeJS.EventEmitter = call;
  events.on('cancelled', onCancelled);
  let timer: NodeJS.Timeout | undefined;
  if (deadline !== undefined) {
    timer = setTimeout(() => abort(deadlineExceeded()), Math.min(MAX_TIMER_MS, Math.max(0, deadline.getTime() - Date.now())));
    timer.unref();
  }
  let peer: PeerIdentity | undefined | null = null;
  const ctx: CallContext = {
    method,
    metadata: call.metadata,
    signal: controller.signal,
    deadline,
    get peer() {
      if (peer === null) peer = peerIdentityFromCertificate(call.getAuthContext()?.sslPeerCertificate);
      return peer;
    },
    principal: undefined,
    traceId: undefined,
  };
  let settled = false;
  return {
    ctx,
    settle() {
      if (settled) return undefined;
      settled = true;
      events.removeListener('cancelled', onCancelled);
      if (timer) clearTimeout(timer);
      return controller.signal.aborted ? (controller.signal.reason as GatehouseError) : undefined;
    },
  };
}

function toDate(deadline: Date | number): Date | undefined {
  if (deadline instanceof Date) return deadline;
  return Number.isFinite(deadline) ? new Date(deadline) : undefined;
}

function deadlineExceeded(): GatehouseError {
  return new GatehouseError('DEADLINE_EXCEEDED', 'deadline exceeded before the call finished');
}

function clientCancelled(): GatehouseError {
  return new GatehouseError('CANCELLED', 'the client cancelled the call');
}
