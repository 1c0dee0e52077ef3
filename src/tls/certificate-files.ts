import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

/** A server identity that has passed every check and can be served. */
export interface CheckedIdentity {
  /** PEM chain, leaf first, as read. */
  certificate: Buffer;
  /** PEM private key, as read. */
  privateKey: Buffer;
  /** The leaf certificate. */
  leaf: X509Certificate;
  /** SHA-256 of certificate and key bytes together: tells a changed pair from an unchanged one. */
  digest: string;
}

/** A client CA bundle that has passed every check. */
export interface CheckedCaBundle {
  /** PEM bundle as read. */
  pem: Buffer;
  /** Every certificate in it. */
  certificates: X509Certificate[];
  /** SHA-256 of the bytes. */
  digest: string;
}

const NOT_BEFORE_GRACE_MS = 5 * 60_000;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Checks a certificate chain and key as a TLS server would use them, so a
 * half-written file, a key from another pair, or an expired certificate is
 * refused before it can replace a good one. Throws with a message naming the
 * problem (never key material).
 */
export function checkIdentity(certificate: Buffer, privateKey: Buffer, nowMs: number): CheckedIdentity {
  const chain = parseCertificates(certificate, 'certificate file');
  const leaf = chain[0]!;
  let key;
  try {
    key = createPrivateKey(privateKey);
  } catch {
    throw new Error('key file is not a readable PEM private key (half-written, or encrypted?)');
  }
  if (!leaf.checkPrivateKey(key)) throw new Error(`key file does not belong to the certificate (${leaf.subject.replace(/\n/g, ', ')})`);
  if (Date.parse(leaf.validTo) <= nowMs) throw new Error(`certificate expired at ${new Date(leaf.validTo).toISOString()}`);
  // A few minutes' grace: an issuer whose clock runs slightly ahead still produces a usable certificate.
  if (Date.parse(leaf.validFrom) > nowMs + NOT_BEFORE_GRACE_MS)
    throw new Error(`certificate is not valid before ${new Date(leaf.validFrom).toISOString()}`);
  try {
    createSecureContext({ cert: certificate, key: privateKey });
  } catch (error) {
    throw new Error(`TLS refused the certificate and key: ${(error as Error).message}`);
  }
  return { certificate, privateKey, leaf, digest: sha256(certificate, privateKey) };
}

/** Checks a CA bundle: at least one certificate, every block parses, and OpenSSL accepts it. */
export function checkCaBundle(pem: Buffer): CheckedCaBundle {
  const certificates = parseCertificates(pem, 'client CA file');
  try {
    createSecureContext({ ca: pem });
  } catch (error) {
    throw new Error(`TLS refused the client CA bundle: ${(error as Error).message}`);
  }
  return { pem, certificates, digest: sha256(pem) };
}

/** SHA-256 over byte strings, hex. */
export function sha256(...parts: Buffer[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

function parseCertificates(pem: Buffer, what: string): X509Certificate[] {
  const text = pem.toString('utf8');
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error(`${what} holds no complete PEM certificate (empty or half-written?)`);
  // A BEGIN without its END is a file still being written.
  if ((text.match(/-----BEGIN /g) ?? []).length !== (text.match(/-----END /g) ?? []).length) {
    throw new Error(`${what} has an unterminated PEM block (half-written?)`);
  }
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new Error(`${what}: certificate ${i + 1} does not parse (${(error as Error).message})`);
    }
  });
}
