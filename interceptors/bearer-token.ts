import type { Metadata } from '@grpc/grpc-js';
import { unauthenticated, type AuthFailure } from './auth-failure.js';

/** Largest bearer token accepted, in bytes (8 KiB). Larger ones are refused before any parsing. */
export const DEFAULT_MAX_TOKEN_BYTES = 8192;

const SCHEME = 'bearer';

const DUPLICATE = unauthenticated('TOKEN_DUPLICATE', 'more than one authorization header; send exactly one "authorization: Bearer <token>"');
const NOT_BEARER = unauthenticated('TOKEN_SCHEME_INVALID', 'the authorization header must use the Bearer scheme: "authorization: Bearer <token>"');
const EMPTY = unauthenticated('TOKEN_MALFORMED', 'the authorization header has the Bearer scheme but no token');

/**
 * Reads the bearer token from request metadata.
 * Returns undefined when there is no `authorization` header, the token when
 * there is exactly one well-formed Bearer value, and a refusal otherwise
 * (two values, another scheme, too large). The scheme is case-insensitive
 * (RFC 9110 section 11.1). The token itself is never put in a message.
 */
export function bearerTokenFrom(metadata: Metadata, maxTokenBytes: number = DEFAULT_MAX_TOKEN_BYTES): string | AuthFailure | undefined {
  // Metadata.get returns its internal array, so this allocates nothing.
  const values = metadata.get('authorization');
  if (values.length === 0) return undefined;
  if (values.length > 1) return DUPLICATE;
  const value = values[0];
  if (typeof value !== 'string') return NOT_BEARER;
  // Size first: nothing below should touch an oversized value more than once.
  if (value.length > maxTokenBytes + SCHEME.length + 8) return tooLarge(maxTokenBytes);
  if (value.length < SCHEME.length + 1 || !isBearerPrefix(value)) return NOT_BEARER;
  let start = SCHEME.length;
  while (start < value.length && value.charCodeAt(start) === 32) start++;
  let end = value.length;
  while (end > start && value.charCodeAt(end - 1) === 32) end--;
  if (end === start) return EMPTY;
  if (end - start > maxTokenBytes) return tooLarge(maxTokenBytes);
  return start === SCHEME.length + 1 && end === value.length ? value.slice(start) : value.slice(start, end);
}

/** `Bearer ` in any case, followed by at least one space; checked without allocating a lowered copy. */
function isBearerPrefix(value: string): boolean {
  for (let i = 0; i < SCHEME.length; i++) {
    // ASCII letters: OR-ing 0x20 lowers upper case and leaves lower case alone.
    if ((value.charCodeAt(i) | 0x20) !== SCHEME.charCodeAt(i)) return false;
  }
  return value.charCodeAt(SCHEME.length) === 32;
}

function tooLarge(maxTokenBytes: number): AuthFailure {
  return unauthenticated('TOKEN_TOO_LARGE', `bearer token is larger than the ${maxTokenBytes}-byte limit`);
}
