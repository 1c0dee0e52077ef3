import { type Metadata, type ServerDuplexStream, type ServerReadableStream, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { peekCallState, type TokenPrincipal } from '../interceptors/call-state.js';
import { peerIdentityFromCertificate, type PeerIdentity } from '../interceptors/peer-identity.js';
import { GatehouseError } from './errors.js';

/** What a handler knows about its call, besides the request. */
export interface CallContext {
  /** Full method path, `/package.Service/Method`. */
  readonly method: string;
  /** Request metadata (headers). */
  readonly metadata: Metadata;
  /** Fires when the caller is gone: client cancel, deadline, or server drain. Its reason is a GatehouseError. */
  readonly signal: AbortSignal;
  /** The effective deadline, when the call has one. */
  readonly deadline: Date | undefined;
  /** The verified client certificate's identity; undefined on insecure or TLS-only listeners without a client cert. */
  readonly peer: PeerIdentity | undefined;
  /** Verified bearer token claims, when the auth interceptor accepted a token. */
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

/** A call context plus the function that releases its timer and listeners. */
export interface OpenedContext {
  ctx: CallContext;
  /** Call once the handler has settled; idempotent. */
  close(): void;
}

/**
 * Builds the context for one call. The AbortSignal fires when the call ends
 * early: client cancellation and deadlines (grpc-js emits `cancelled` once the
 * call is over, whether the client went away, grpc-js enforced the client's
 * deadline, or the deadline interceptor ended the call at the effective one).
 */
export function openCallContext(call: AnyServerCall, method: string): OpenedContext {
  const state = peekCallState(call.metadata);
  const controller = new AbortController();
  const deadline = state?.deadline ?? toDate(call.getDeadline());
  const abort = (error: GatehouseError) => {
    if (!controller.signal.aborted) controller.abort(error);
  };
  const onCancelled = () => {
    // grpc-js reports its own deadline expiry as a plain cancellation.
    abort(deadline !== undefined && Date.now() >= deadline.getTime() - 1 ? deadlineExceeded() : clientCancelled());
  };
  const events = call as unknown as NodeJS.EventEmitter;
  events.on('cancelled', onCancelled);
  let timer: NodeJS.Timeout | undefined;
  // The deadline interceptor (which set state.deadline) ends the call with DEADLINE_EXCEEDED itself and `cancelled`
  // follows: a second timer here would race it, and a handler returning quietly on abort could report OK first.
  if (deadline !== undefined && state?.deadline === undefined) {
    timer = setTimeout(() => abort(deadlineExceeded()), Math.max(0, deadline.getTime() - Date.now()));
    timer.unref();
  }

  let peer: PeerIdentity | undefined | null = state?.peer ?? null;
  const ctx: CallContext = {
    method,
    metadata: call.metadata,
    signal: controller.signal,
    deadline,
    get peer() {
      // Parsed only when a handler asks, and only when no interceptor did it already.
      if (peer === null) peer = peerIdentityFromCertificate(call.getAuthContext()?.sslPeerCertificate);
      return peer;
    },
    principal: state?.principal,
    traceId: state?.traceId,
  };
  let closed = false;
  return {
    ctx,
    close() {
      if (closed) return;
      closed = true;
      events.removeListener('cancelled', onCancelled);
      if (timer) clearTimeout(timer);
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
