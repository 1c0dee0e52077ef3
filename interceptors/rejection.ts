import type { status as Status } from '@grpc/grpc-js';
import type { PartialStatus } from './grpc-compat.js';
import type { InterceptorReason } from './reasons.js';

/** Why an interceptor refuses a call, in the words of the one error model (src/errors.ts). */
export interface Rejection {
  /** gRPC status code sent to the client. */
  code: Status;
  /** Stable UPPER_SNAKE reason for programs (`google.rpc.ErrorInfo.reason`), e.g. `RATE_LIMITED`; listed in interceptors/reasons.ts. */
  reason: InterceptorReason;
  /** Client-safe message: what is wrong and what to do about it. */
  message: string;
  /** When a retry makes sense, after how many milliseconds (`google.rpc.RetryInfo`). */
  retryDelayMs?: number;
  /** Client-safe key/values for `google.rpc.ErrorInfo.metadata`. */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * Turns a rejection into the status sent to the client. interceptors/ cannot
 * import src/, so the server passes a function that adds rich details
 * (`grpc-status-details-bin`); {@link plainRejection} is the fallback.
 */
export type RejectionToStatus = (rejection: Rejection) => PartialStatus;

/** A status without rich details: code and message only. */
export const plainRejection: RejectionToStatus = (rejection) => ({ code: rejection.code, details: rejection.message });
