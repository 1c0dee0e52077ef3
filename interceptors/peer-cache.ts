import type { Metadata, ServerInterceptingCallInterface } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { peerIdentityFromCertificate, type PeerIdentity } from './peer-identity.js';

/** A call as the peer cache reads it: its auth context and, when known, its connection. */
export type PeerSource = Pick<ServerInterceptingCallInterface, 'getAuthContext'> & {
  /** The client connection as an opaque key (GatewayCall's `connection`); undefined when unknown. */
  readonly connection?: object | undefined;
  /** The request metadata, where a forwarded certificate is named (see {@link ForwardedCertificates}). */
  readonly metadata?: Metadata | undefined;
};

/** The verified client certificate's identity of a call, parsed once per certificate and looked up once per connection. */
export interface PeerCache {
  /** The identity of the call's client certificate; undefined without one (or without a usable name). */
  identityOf(call: PeerSource): PeerIdentity | undefined;
}

/**
 * Client certificates verified by a front end in this process (the web
 * listener, src/web/) for calls it makes over in-memory connections, which
 * have no TLS of their own. A call names one with `header`; the server's
 * HTTP/2 hooks delete that header from every other connection, so only the
 * front end can set it. The front end names the same certificate on every
 * call of a connection, so the per-connection lookup holds for these too.
 */
export interface ForwardedCertificates {
  /** The request metadata key naming the certificate. */
  readonly header: string;
  /** The certificate the front end verified under this id, while its connection lasts. */
  certificateOf(id: string): PeerCertificate | undefined;
}

/**
 * A connection's certificate cannot change (Node's HTTP/2 disables TLS
 * renegotiation), so its identity is remembered per connection and later
 * calls on it cost one WeakMap lookup. Parsing the identity (SANs,
 * thumbprint) is done once per certificate: by
 * object when the server hands out one certificate object per connection
 * (src/auth/http2-hooks.ts arranges that), else by the SHA-256 fingerprint
 * Node has already computed. Bounded, oldest out first. One cache serves the
 * authentication step and the access log.
 *
 * @param maxEntries certificates remembered by fingerprint. Default 1024.
 * @param forwarded certificates a front end verified, read only when the connection has none of its own. Default none.
 */
export function createPeerCache(maxEntries = 1024, forwarded?: ForwardedCertificates): PeerCache {
  const byObject = new WeakMap<object, PeerIdentity>();
  const byFingerprint = new Map<string, PeerIdentity>();
  // null: the connection has no usable certificate identity.
  const byConnection = new WeakMap<object, PeerIdentity | null>();
  const identityOf = (call: PeerSource): PeerIdentity | undefined => {
    const connection = call.connection;
    if (connection === undefined) return fromCertificate(call);
    const known = byConnection.get(connection);
    if (known !== undefined) return known ?? undefined;
    const identity = fromCertificate(call);
    byConnection.set(connection, identity ?? null);
    return identity;
  };
  const fromCertificate = (call: PeerSource): PeerIdentity | undefined => {
    const cert = call.getAuthContext()?.sslPeerCertificate ?? (forwarded && forwardedCertificate(call.metadata, forwarded));
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
  };
  return { identityOf };
}

function forwardedCertificate(metadata: Metadata | undefined, forwarded: ForwardedCertificates): PeerCertificate | undefined {
  const id = metadata?.get(forwarded.header)[0];
  return typeof id === 'string' ? forwarded.certificateOf(id) : undefined;
}
