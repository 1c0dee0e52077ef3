import type { PeerCertificate } from 'node:tls';

/** Who a verified client certificate says the caller is. */
export interface PeerIdentity {
  /** The principal: first URI SAN (SPIFFE), else first DNS SAN, else subject CN. */
  identity: string;
  /** Which part of the certificate the identity came from. */
  source: 'uri' | 'dns' | 'cn';
  /** Every URI and DNS SAN, for allow-list matching. */
  sans: readonly string[];
  /** base64url SHA-256 of the DER certificate: the RFC 8705 `x5t#S256` form. */
  thumbprintS256: string;
  /** Certificate expiry. */
  notAfter: Date;
}

/**
 * Extracts the identity from a certificate grpc-js has already verified
 * (`getAuthContext().sslPeerCertificate`). Returns undefined when the peer sent
 * no certificate or it has no usable name.
 */
export function peerIdentityFromCertificate(cert: PeerCertificate | undefined): PeerIdentity | undefined {
  if (!cert?.raw || cert.raw.length === 0) return undefined;
  // Every reader of the identity comes through here, so a certificate that is not a client's has none anywhere.
  if (clientCertificateProblem(cert) !== undefined) return undefined;
  const uris: string[] = [];
  const dnsNames: string[] = [];
  for (const entry of splitSubjectAltName(cert.subjectaltname ?? '')) {
    if (entry.startsWith('URI:')) uris.push(entry.slice(4));
    else if (entry.startsWith('DNS:')) dnsNames.push(entry.slice(4));
  }
  const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : undefined;
  const [identity, source] =
    uris[0] !== undefined
      ? [uris[0], 'uri' as const]
      : dnsNames[0] !== undefined
        ? [dnsNames[0], 'dns' as const]
        : cn !== undefined
          ? [cn, 'cn' as const]
          : [undefined, undefined];
  if (identity === undefined || source === undefined) return undefined;
  return {
    identity,
    source,
    sans: [...uris, ...dnsNames],
    thumbprintS256: sha256Base64Url(cert.fingerprint256),
    notAfter: new Date(cert.valid_to),
  };
}

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE_OID = '2.5.29.37.0';

/**
 * Why a certificate that chains to the trusted CA still may not identify a
 * client, or undefined when it may. A CA certificate (basicConstraints
 * CA:TRUE) issues identities and is not one: accepting it would let whoever
 * holds an intermediate's key call as the intermediate's name. A certificate
 * whose extended key usage is given but excludes clientAuth (a server
 * certificate) was not issued for calling either.
 */
export function clientCertificateProblem(cert: PeerCertificate): string | undefined {
  if (cert.ca) return 'the client certificate is a CA certificate (basicConstraints CA:TRUE); present an end-entity client certificate';
  const usages = cert.ext_key_usage;
  if (usages !== undefined && !usages.includes(CLIENT_AUTH_OID) && !usages.includes(ANY_EXTENDED_KEY_USAGE_OID)) {
    return "the client certificate's extended key usage does not include clientAuth; present a certificate issued for TLS clients";
  }
  return undefined;
}

/** Node's fingerprint256 is colon-separated hex; RFC 8705 wants base64url of the same bytes. */
function sha256Base64Url(fingerprint256: string): string {
  return Buffer.from(fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');
}

/** Node joins SANs with ", "; values may be quoted when they contain commas. */
function splitSubjectAltName(value: string): string[] {
  const parts: string[] = [];
  const pattern = /([A-Za-z ]+:(?:"(?:[^"\\]|\\.)*"|[^,]*))(?:,\s*|$)/g;
  for (const match of value.matchAll(pattern)) {
    const entry = match[1]?.trim();
    if (!entry) continue;
    const colon = entry.indexOf(':');
    const raw = entry.slice(colon + 1);
    parts.push(entry.slice(0, colon + 1) + (raw.startsWith('"') ? JSON.parse(raw) : raw));
  }
  return parts;
}
