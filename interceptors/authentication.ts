import type { Registry } from 'prom-client';
import { isAuthFailure, unauthenticated, type AuthFailure } from './auth-failure.js';
import { authFailureCounter } from './auth-metrics.js';
import { bearerTokenFrom, DEFAULT_MAX_TOKEN_BYTES } from './bearer-token.js';
import type { TokenPrincipal } from './call-state.js';
import type { GatewayCall, MethodHooks, Step } from './gateway-call.js';
import type { PartialStatus } from './grpc-compat.js';
import type { PeerCache } from './peer-cache.js';
import { clientCertificateProblem, type PeerIdentity } from './peer-identity.js';
import { plainRejection, type RejectionToStatus } from './rejection.js';
import type { TokenVerifier, VerifyResult } from './token-verifier.js';

/** Options for {@link createAuthenticationStep}. */
export interface AuthenticationOptions {
  /** Verifies bearer tokens (keys, claims, cache). */
  verifier: TokenVerifier;
  /** Registry for `gatehouse_auth_failures_total{reason}`. */
  registry: Registry;
  /** Reads the client certificate's identity, once per certificate (shared with the access log). */
  peers: PeerCache;
  /** Builds the status sent for a refusal; the server passes its one error mapping. Default code and message only. */
  reject?: RejectionToStatus;
  /** Largest bearer token, in bytes. Default 8192. */
  maxTokenBytes?: number;
  /** Told about each refusal (for the log); gets no token, only the refusal, the method and the peer. */
  onRefused?: RefusalListener;
}

/** Receives refusals for logging; never sees a token. */
export type RefusalListener = (failure: AuthFailure, path: string, peer: PeerIdentity | undefined) => void;

const BOUND_WITHOUT_CERTIFICATE = unauthenticated(
  'TOKEN_BINDING_MISMATCH',
  'token is bound to a client certificate (cnf x5t#S256), but the connection presented none',
);
const BOUND_TO_OTHER = unauthenticated(
  'TOKEN_BINDING_MISMATCH',
  "token is bound to a different client certificate: its cnf x5t#S256 does not match this connection's certificate",
);
const KEY_LOOKUP_FAILED = unauthenticated('TOKEN_KID_UNKNOWN', 'the key for this token could not be resolved');

/**
 * Establishes who is calling: the verified client certificate's identity
 * (`call.peer`) and, when an `authorization: Bearer` header is sent, the
 * verified token's claims (`call.principal`). A token that is sent must be
 * valid, and a certificate-bound token (RFC 8705) must match the
 * connection's certificate. Whether a token is required and what the caller
 * may do is the authorization step's job, after this one. The authorization
 * header is removed once read, so no later step (access log, handlers) ever
 * holds the token.
 *
 * Verification is synchronous except when a token names a kid that a JWKS URL
 * may still deliver: then the step answers with a promise, and the gateway
 * call holds the request's messages until it settles (and drops them if the
 * call is refused), so the handler never starts on an unauthenticated call.
 */
export function createAuthenticationStep(options: AuthenticationOptions): Step {
  const verifier = options.verifier;
  const peers = options.peers;
  const toStatus = options.reject ?? plainRejection;
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const failures = authFailureCounter(options.registry);
  const onRefused = options.onRefused;
  // Most refusals are one of a few frozen failures: their statuses (with encoded details) are built once each.
  const statuses = new WeakMap<AuthFailure, PartialStatus>();

  const refuse = (failure: AuthFailure, call: GatewayCall): PartialStatus => {
    failures.inc(failure.reason);
    onRefused?.(failure, call.method.path, call.peer);
    let status = statuses.get(failure);
    if (status === undefined) {
      status = toStatus(failure);
      statuses.set(failure, status);
    }
    return status;
  };
  const settle = (result: VerifyResult, call: GatewayCall): PartialStatus | undefined => {
    const failure = isAuthFailure(result) ? result : bindingFailure(result, call.peer);
    if (failure !== undefined) return refuse(failure, call);
    call.principal = result as TokenPrincipal;
    return undefined;
  };
  const hooks: MethodHooks = {
    admit(call) {
      call.peer = peers.identityOf(call);
      if (call.peer === undefined) {
        // Rare path: no identity. Say why when a certificate was presented but may not identify a client.
        const cert = call.getAuthContext()?.sslPeerCertificate;
        const problem = cert?.raw ? clientCertificateProblem(cert) : undefined;
        if (problem !== undefined) return refuse(unauthenticated('CLIENT_CERTIFICATE_REQUIRED', problem), call);
      }
      const metadata = call.metadata!;
      const token = bearerTokenFrom(metadata, maxTokenBytes);
      if (token === undefined) return undefined;
      metadata.remove('authorization');
      if (typeof token !== 'string') return refuse(token, call);
      const result = verifier.verify(token, call.connection);
      if (result instanceof Promise)
        return result.then(
          (settled) => settle(settled, call),
          () => refuse(KEY_LOOKUP_FAILED, call),
        );
      return settle(result, call);
    },
  };
  return { name: 'authentication', forMethod: () => hooks };
}

/** RFC 8705 section 3: a bound token is only good on a connection with the certificate it names. */
function bindingFailure(principal: TokenPrincipal, peer: PeerIdentity | undefined): AuthFailure | undefined {
  const bound = principal.boundThumbprint;
  if (bound === undefined) return undefined;
  if (peer === undefined) return BOUND_WITHOUT_CERTIFICATE;
  return peer.thumbprintS256 === bound ? undefined : BOUND_TO_OTHER;
}
