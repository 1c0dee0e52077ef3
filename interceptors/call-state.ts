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
 * Typed per-call data that interceptors hand to later interceptors and to the
 * handler adapters, instead of re-parsing strings at each layer.
 */
export interface CallState {
  /** Verified client certificate identity. */
  peer?: PeerIdentity;
  /** Verified token claims. */
  principal?: TokenPrincipal;
  /**
   * Effective deadline after defaulting and clamping; handlers must finish by then.
   * Set by the deadline interceptor, which also ends the call when it passes
   * (handlers then see their `ctx.signal` fire).
   */
  deadline?: Date;
  /** W3C trace id of the call's span, for logs and INTERNAL replies. */
  traceId?: string;
  /** Set when the handler failed with a bug: the client saw only `referenceId`; the access log writes the cause. */
  internalError?: { referenceId: string; cause: unknown };
  /**
   * The status grpc-js actually wrote for this call, including the ones it makes
   * itself (its deadline, oversized or undecodable messages) that no interceptor's
   * sendStatus sees. Set by interceptors/call-outcome.ts.
   */
  wireStatus?: { code: number; details: string };
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

/** The call state if any interceptor attached one; never creates it. */
export function peekCallState(metadata: Metadata): CallState | undefined {
  return (metadata as WithState)[CALL_STATE];
}
