import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The development HMAC key as read from its file. */
export interface DevSigningKey {
  /** Secret bytes (32, for HS256). */
  secret: Buffer;
  /** True when this call made the file. */
  created: boolean;
}

/**
 * Reads the development token-signing key, making it when missing: 32 random
 * bytes, base64url text, mode 0600, next to the development certificates
 * (certs/dev/ is git-ignored, so it is never committed). Both the server and
 * `gatehouse token mint` call this, so whichever runs first makes it.
 */
export function ensureDevSigningKey(file: string): DevSigningKey {
  if (existsSync(file)) return { secret: readDevSigningKey(file), created: false };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    // `wx`: if another process made it in the meantime, keep theirs.
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { secret: readDevSigningKey(file), created: false };
  }
  return { secret: readDevSigningKey(file), created: true };
}

/** Reads a base64url key file (as written by {@link ensureDevSigningKey}). */
export function readDevSigningKey(file: string): Buffer {
  const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  if (secret.length < 32) throw new Error(`${file}: the development signing key must hold at least 32 bytes (base64url)`);
  return secret;
}
