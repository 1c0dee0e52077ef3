import type { Metadata, ServerInterceptingCallInterface, ServerInterceptor } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { isAuthFailure, unauthenticated, type AuthFailure } from './auth-failure.js';
import { authFailureCounter, type AuthFailureCounter } from './auth-metrics.js';
import { bearerTokenFrom, DEFAULT_MAX_TOKEN_BYTES } from './bearer-token.js';
import { callStateOf, type CallState, type TokenPrincipal } from './call-state.js';
import { ForwardingCall } from './forwarding-call.js';
import { clientCertificateProblem, peerIdentityFromCertificate, type PeerIdentity } from './peer-identity.js';
import { plainRejection, type RejectionToStatus } from './rejection.js';
import type { TokenVerifier, VerifyResult } from './token-verifier.js';

/** Options for {@link createAuthenticationInterceptor}. */
export interface AuthenticationOptions {
  /** Verifies bearer tokens (keys, claims, cache). */
  verifier: TokenVerifier;
  /** Registry for `gatehouse_auth_failures_total{reason}`. */
  registry: Registry;
  /** Builds the status sent for a refusal; the server passes its one error mapping. Default code and message only. */
  reject?: RejectionToStatus;
  /** Largest bearer token, in bytes. Default 8192. */
  maxTokenBytes?: number;
  /** Client certificates whose parsed identity is kept, keyed by SHA-256 fingerprint. Default 1024. */
  peerCacheSize?: number;
  /** Told about each refusal (for the log); gets no token, only the refusal, the method and the peer. */
  onRefused?: RefusalListener;
}

/** Receives refusals for logging; never sees a token. */
export type RefusalListener = (failure: AuthFailure, path: string, peer: PeerIdentity | undefined) => void;

const BOUND_WITHOUT_CERTIFICATE = unauthenticated('TOKEN_BINDING_MISMATCH', 'token is bound to a client certificate (cnf x5t#S256), but the connection presented none');
const BOUND_TO_OTHER = unauthenticated('TOKEN_BINDING_MISMATCH', 'token is bound to a different client certificate: its cnf x5t#S256 does not match this connection\'s certificate');
const KEY_LOOKUP_FAILED = unauthenticated('TOKEN_KID_UNKNOWN', 'the key for this token could not be resolved');

/** What every call of one interceptor shares; built once. */
interface Shared {
  verifier: TokenVerifier;
  toStatus: RejectionToStatus;
  maxTokenBytes: number;
  failures: AuthFailureCounter;
  onRefused: RefusalListener | undefined;
  peers: PeerCache;
}

/**
 * Establishes who is calling: the verified client certificate's identity
 * (`state.peer`) and, when an `authorization: Bearer` header is sent, the
 * verified token's claims (`state.principal`). A token that is sent must be
 * valid, and a certificate-bound token (RFC 8705) must match the
 * connection's certificate. Whether a token is required and what the caller
 * may do is the authorization interceptor's job, after this one. The
 * authorization header is removed once read, so no later layer (access log,
 * handlers) ever holds the token.
 */
export function createAuthenticationInterceptor(options: AuthenticationOptions): ServerInterceptor {
  const shared: Shared = {
    verifier: options.verifier,
    toStatus: options.reject ?? plainRejection,
    maxTokenBytes: options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES,
    failures: authFailureCounter(options.registry),
    onRefused: options.onRefused,
    peers: createPeerCache(options.peerCacheSize ?? 1024),
  };
  return (descriptor, call) => new AuthenticatingCall(call, shared, descriptor.path).asInterceptingCall();
}

/**
 * One call's authentication layer. Verification is synchronous except when a
 * token names a kid that a JWKS URL may still deliver: then the layer holds
 * the request's messages and half-close until the answer, and drops them if
 * the call is refused, so the handler never starts on an unauthenticated call.
 */
class AuthenticatingCall extends ForwardingCall {
  /** 0 passing through, 1 waiting for a key, 2 refused. */
  private phase: 0 | 1 | 2 = 0;
  private held: unknown[] | undefined;
  private halfClosed = false;

  constructor(next: ServerInterceptingCallInterface, private readonly shared: Shared, private readonly path: string) {
    super(next);
  }

  override onReceiveMetadata(metadata: Metadata): void {
    const shared = this.shared;
    const peer = shared.peers.identityOf(this.next);
    if (peer === undefined) {
      // Rare path: no identity. Say why when a certificate was presented but may not identify a client.
      const cert = this.next.getAuthContext()?.sslPeerCertificate;
      const problem = cert?.raw ? clientCertificateProblem(cert) : undefined;
      if (problem !== undefined) {
        this.refuse(unauthenticated('CLIENT_CERTIFICATE_REQUIRED', problem), undefined);
        return;
      }
    }
    const state = callStateOf(metadata);
    state.peer = peer;
    const token = bearerTokenFrom(metadata, shared.maxTokenBytes);
    if (token === undefined) {
      this.listener.onReceiveMetadata(metadata);
      return;
    }
    metadata.remove('authorization');
    if (typeof token !== 'string') {
      this.refuse(token, peer);
      return;
    }
    const result = shared.verifier.verify(token);
    if (!(result instanceof Promise)) {
      this.accept(result, metadata, state, peer);
      return;
    }
    this.phase = 1;
    result.then(
      (settled) => this.accept(settled, metadata, state, peer),
      () => this.refuse(KEY_LOOKUP_FAILED, peer),
    );
  }

  override onReceiveMessage(message: unknown): void {
    if (this.phase === 0) this.listener.onReceiveMessage(message);
    else if (this.phase === 1) (this.held ??= []).push(message);
  }

  override onReceiveHalfClose(): void {
    if (this.phase === 0) this.listener.onReceiveHalfClose();
    else if (this.phase === 1) this.halfClosed = true;
  }

  private accept(result: VerifyResult, metadata: Metadata, state: CallState, peer: PeerIdentity | undefined): void {
    const failure = isAuthFailure(result) ? result : bindingFailure(result, peer);
    if (failure !== undefined) {
      this.refuse(failure, peer);
      return;
    }
    state.principal = result as TokenPrincipal;
    const wasWaiting = this.phase === 1;
    this.phase = 0;
    this.listener.onReceiveMetadata(metadata);
    if (!wasWaiting) return;
    const held = this.held;
    this.held = undefined;
    if (held) for (const message of held) this.listener.onReceiveMessage(message);
    if (this.halfClosed) this.listener.onReceiveHalfClose();
  }

  private refuse(failure: AuthFailure, peer: PeerIdentity | undefined): void {
    this.phase = 2;
    this.held = undefined;
    const shared = this.shared;
    shared.failures.inc(failure.reason);
    shared.onRefused?.(failure, this.path, peer);
    this.next.sendStatus(shared.toStatus(failure));
  }
}

/** RFC 8705 section 3: a bound token is only good on a connection with the certificate it names. */
function bindingFailure(principal: TokenPrincipal, peer: PeerIdentity | undefined): AuthFailure | undefined {
  const bound = principal.boundThumbprint;
  if (bound === undefined) return undefined;
  if (peer === undefined) return BOUND_WITHOUT_CERTIFICATE;
  return peer.thumbprintS256 === bound ? undefined : BOUND_TO_OTHER;
}

interface PeerCache {
  identityOf(call: ServerInterceptingCallInterface): PeerIdentity | undefined;
}

/**
 * Parsing the identity (SANs, thumbprint) is done once per certificate: by
 * object when the server hands out one certificate object per connection
 * (src/auth/http2-hooks.ts arranges that), else by the SHA-256 fingerprint
 * Node has already computed. Bounded, oldest out first.
 */
function createPeerCache(maxEntries: number): PeerCache {
  const byObject = new WeakMap<object, PeerIdentity>();
  const byFingerprint = new Map<string, PeerIdentity>();
  return {
    identityOf(call) {
      const cert = call.getAuthContext()?.sslPeerCertificate;
      if (!cert) return undefined;
      const known = byObject.get(cert);
      if (known !== undefined) return known;
      const fingerprint = cert.fingerprint256;
      let identity = byFingerprint.get(fingerprint);
      if (identity === undefined) {
        const parsed = peerIdentityFromCertificate(cert);
        if (parsed === undefined) return undefined;
        identity = Object.freeze(parsed);
        if (byFingerprint.size >= maxEntries) byFingerprint.delete(byFingerprint.keys().next().value!);
        byFingerprint.set(fingerprint, identity);
      }
      byObject.set(cert, identity);
      return identity;
    },
  };
}
