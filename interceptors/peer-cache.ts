import type { ServerInterceptingCallInterface } from '@grpc/grpc-js';
import { peerIdentityFromCertificate, type PeerIdentity } from './peer-identity.js';

/** A call as the peer cache reads it: its auth context and, when known, its connection. */
export type PeerSource = Pick<ServerInterceptingCallInterface, 'getAuthContext'> & {
  /** The client connection as an opaque key (GatewayCall's `connection`); undefined when unknown. */
  readonly connection?: object | undefined;
};

/** The verified client certificate's identity of a call, parsed once per certificate and looked up once per connection. */
export interface PeerCache {
  /** The identity of the call's client certificate; undefined without one (or without a usable name). */
  identityOf(call: PeerSource): PeerIdentity | undefined;
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
 */
export function createPeerCache(maxEntries = 1024): PeerCache {
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
  };
  return { identityOf };
}
