/**
 * Every `google.rpc.ErrorInfo.reason` an interceptor can refuse a call with.
 * interceptors/ cannot import src/, so the names live here; the one reason
 * catalogue (src/status/reasons.ts) describes each (gRPC code, HTTP code,
 * whether a retry can help, meaning) and fails to compile, and its test
 * fails, when one of these is missing there.
 */

/**
 * Reasons of the security interceptors. They are also the `reason` label of
 * `gatehouse_auth_failures_total`, so renaming one breaks dashboards.
 */
export const AUTH_FAILURE_REASONS = [
  'TOKEN_MISSING',
  'TOKEN_DUPLICATE',
  'TOKEN_SCHEME_INVALID',
  'TOKEN_TOO_LARGE',
  'TOKEN_MALFORMED',
  'TOKEN_ALGORITHM_REFUSED',
  'TOKEN_KID_INVALID',
  'TOKEN_KID_UNKNOWN',
  'TOKEN_SIGNATURE_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_NOT_YET_VALID',
  'TOKEN_EXP_MISSING',
  'TOKEN_LIFETIME_TOO_LONG',
  'TOKEN_ISSUER_INVALID',
  'TOKEN_AUDIENCE_INVALID',
  'TOKEN_TYPE_INVALID',
  'TOKEN_CLAIMS_INVALID',
  'TOKEN_BINDING_MISMATCH',
  'TOKEN_BINDING_REQUIRED',
  'TOKEN_SUBJECT_MISMATCH',
  'CLIENT_CERTIFICATE_REQUIRED',
  'IDENTITY_NOT_ALLOWED',
  'SCOPE_MISSING',
  'METHOD_NOT_IN_POLICY',
] as const;

/** One of {@link AUTH_FAILURE_REASONS}. */
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/** Reasons of the other refusing interceptors: deadline, stream cap, rate limit (and its shared store), metadata limits. */
export const LIMIT_REASONS = [
  'DEADLINE_TOO_SHORT',
  'DEADLINE_EXCEEDED',
  'TOO_MANY_STREAMS',
  'RATE_LIMITED',
  'RATE_LIMITER_UNAVAILABLE',
  'METADATA_TOO_LARGE',
] as const;

/** Every reason an interceptor may put in a {@link import('./rejection.js').Rejection}. */
export const INTERCEPTOR_REASONS = Object.freeze([...AUTH_FAILURE_REASONS, ...LIMIT_REASONS]);

/** One of {@link INTERCEPTOR_REASONS}. */
export type InterceptorReason = AuthFailureReason | (typeof LIMIT_REASONS)[number];
