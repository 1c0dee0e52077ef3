import type { ServerInterceptingCallInterface } from '@grpc/grpc-js';
import { peerIdentityFromCertificate, type PeerIdentity } from './peer-identity.js';

/** The verified client certificate's identity of a call, parsed once per certificate. */
export interface PeerCache {
  /** The identity of the call's client certificate; undefined without one (or without a usable name). */
  identityOf(call: Pick<ServerInterceptingCallInterface, 'getAuthContext'>): PeerIdentity | undefined;
}

/**
 * Parsing the identity (SANs, thumbprint) is done once per certificate: by
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
