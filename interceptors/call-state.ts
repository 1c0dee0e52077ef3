import type { Metadata } from '@grpc/grpc-js';
import type { PeerIdentity } from './peer-identity.js';

/** Claims of a verified bearer token, as handlers see them. */
export interface TokenPrincipal {
  /** `sub` claim. */
  subject: string;
  /** Scopes from `scope` (space-separated) or `scp` (array). */
  scopes: ReadonlySet<string>;
  /** `client_id` or `azp` claim, when present. */
  clientId?: string;
  /** `iss` claim. */
  issuer?: string;
  /** Expiry, epoch seconds. */
  expiresAtSec?: number;
  /** The `cnf.x5t#S256` thumbprint the token is bound to, when it is bound. */
  boundThumbprint?: string;
}

/**
 * Typed per-call data that the gateway interceptor's steps hand to each other
 * and to the handler adapters, instead of re-parsing strings at each step.
 * In a gateway it is the one per-call object of interceptors/gateway-call.ts.
 */
export interface CallState {
  /** Verified client certificate identity. */
  peer?: PeerIdentity;
  /** Verified token claims. */
  principal?: TokenPrincipal;
  /**
   * Effective deadline after defaulting and clamping; handlers must finish by then.
   * Set by the deadline step, which also ends the call when it passes
   * (handlers then see their `ctx.signal` fire).
   */
  readonly deadline?: Date;
  /** W3C trace id of the call's span, for logs and INTERNAL replies. */
  traceId?: string;
  /** Set when the handler failed with a bug: the client saw only `referenceId`; the access log writes the cause. */
  internalError?: { referenceId: string; cause: unknown };
  /**
   * Present (true or false) only when a gateway interceptor runs the call: true
   * once the call is over on the wire (grpc-js's `onCancel`), whatever ended it.
   */
  readonly callOver?: boolean;
  /** How the call ended when it ended without the handler's status: DEADLINE_EXCEEDED or CANCELLED (gRPC codes). */
  readonly endCode?: number;
  /**
   * Set by the handler adapter while its handler runs and has asked for an
   * AbortSignal; called once when the call ends (client cancel, deadline, drain).
   */
  onCallEnded?: (() => void) | undefined;
  /** Set by the forwarding handler of a routed service (src/upstream/): the upstream's name, for the access log. */
  upstream?: string | undefined;
}

/**
 * The call's request Metadata object is the one thing an interceptor and the
 * handler both hold (grpc-js passes the object given to `next` on to the
 * handler as `call.metadata`), so state rides on it under a private symbol.
 * A symbol keeps it out of the wire headers and out of `getMap()`.
 */
const CALL_STATE = Symbol('gatehouse.callState');

type WithState = Metadata & { [CALL_STATE]?: CallState };

/** The call state attached to this request metadata, creating it on first use. */
export function callStateOf(metadata: Metadata): CallState {
  const carrier = metadata as WithState;
  return (carrier[CALL_STATE] ??= {});
}

/** Attaches `state` (the gateway's per-call object) to the request metadata, before anything reads it. */
export function attachCallState(metadata: Metadata, state: CallState): void {
  (metadata as WithState)[CALL_STATE] = state;
}

/** The call state if any interceptor attached one; never creates it. */
export function peekCallState(metadata: Metadata): CallState | undefined {
  return (metadata as WithState)[CALL_STATE];
}
