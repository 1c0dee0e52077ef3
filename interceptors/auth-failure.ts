import { status as Status } from '@grpc/grpc-js';
import type { AuthFailureReason } from './reasons.js';
import type { Rejection } from './rejection.js';

// The reason names live with every other interceptor reason, for the catalogue (src/status/reasons.ts).
export { AUTH_FAILURE_REASONS, type AuthFailureReason } from './reasons.js';

/**
 * Why a call was refused, in words a person can act on: a {@link Rejection}
 * (the one refusal shape of interceptors/, turned into a status by the
 * server's single error mapping) narrowed to the security codes and reasons.
 * The message never contains the token, a key or a secret: only claim values
 * the caller already knows (times, kid, its own certificate identity) and
 * configuration names.
 */
export interface AuthFailure extends Rejection {
  /** UNAUTHENTICATED when the credential is missing or invalid, PERMISSION_DENIED when a valid caller lacks the right. */
  readonly code: Status.UNAUTHENTICATED | Status.PERMISSION_DENIED;
  /** Stable machine-readable reason. */
  readonly reason: AuthFailureReason;
  /** Client-safe explanation. */
  readonly message: string;
}

/** An UNAUTHENTICATED refusal. */
export function unauthenticated(reason: AuthFailureReason, message: string): AuthFailure {
  return Object.freeze({ code: Status.UNAUTHENTICATED, reason, message });
}

/** A PERMISSION_DENIED refusal. */
export function permissionDenied(reason: AuthFailureReason, message: string): AuthFailure {
  return Object.freeze({ code: Status.PERMISSION_DENIED, reason, message });
}

/** True for a refusal, false for anything else a check may return (a principal, undefined). */
export function isAuthFailure(value: unknown): value is AuthFailure {
  return typeof value === 'object' && value !== null && 'reason' in value && 'code' in value && 'message' in value;
}

/** Epoch seconds as an RFC 3339 UTC time without milliseconds: `2026-11-21T10:00:00Z`. */
export function formatEpochSeconds(epochSec: number): string {
  return new Date(epochSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
