import { status as Status } from '@grpc/grpc-js';

/** A request field that failed validation, reported to the client in `google.rpc.BadRequest`. */
export interface FieldViolation {
  /** Path of the field in the request, e.g. `audio_config.sample_rate_hertz`. */
  field: string;
  /** What is wrong and what would be right, for a person. */
  description: string;
}

/** Optional parts of a {@link GatehouseError}. */
export interface GatehouseErrorDetails {
  /** Invalid request fields; sent as `google.rpc.BadRequest`. */
  fieldViolations?: readonly FieldViolation[];
  /** How long the client should wait before retrying, in milliseconds; sent as `google.rpc.RetryInfo`. */
  retryDelayMs?: number;
  /** Extra key/value context for `google.rpc.ErrorInfo.metadata`; must be safe for clients. */
  metadata?: Readonly<Record<string, string>>;
  /** The private cause: logged with the trace id, never sent to the client. */
  cause?: unknown;
}

/**
 * The one error type of Gatehouse. It carries the gRPC code, a stable reason
 * (`CHEESE_OUT_OF_STOCK`) for programs, a message safe for people, and a
 * private cause for the log. Anything thrown that is not a GatehouseError is
 * treated as a bug and becomes INTERNAL with a generic message.
 */
export class GatehouseError extends Error {
  override readonly name = 'GatehouseError';

  constructor(
    /** The gRPC status code sent to the client. */
    readonly code: Status,
    /** Stable UPPER_SNAKE reason, sent as `google.rpc.ErrorInfo.reason`. */
    readonly reason: string,
    /** Client-safe message: says what is wrong and how to fix it, never internals or secrets. */
    message: string,
    /** Field violations, retry delay, metadata and private cause. */
    readonly details: GatehouseErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}

/** INVALID_ARGUMENT: the request itself is wrong; retrying it unchanged cannot help. */
export function invalidArgument(message: string, fieldViolations?: readonly FieldViolation[]): GatehouseError {
  return new GatehouseError(Status.INVALID_ARGUMENT, 'INVALID_ARGUMENT', message, { fieldViolations });
}

/** INVALID_ARGUMENT for one field, with the violation filled in from the same words. */
export function invalidField(field: string, description: string): GatehouseError {
  return invalidArgument(`${field} ${description}`, [{ field, description }]);
}

/** NOT_FOUND: the named thing does not exist. */
export function notFound(reason: string, message: string): GatehouseError {
  return new GatehouseError(Status.NOT_FOUND, reason, message);
}

/** FAILED_PRECONDITION: the system is not in a state that allows this now. */
export function failedPrecondition(reason: string, message: string): GatehouseError {
  return new GatehouseError(Status.FAILED_PRECONDITION, reason, message);
}

/** UNAVAILABLE: transient; the client may retry, after `retryDelayMs` when given. */
export function unavailable(reason: string, message: string, retryDelayMs?: number, cause?: unknown): GatehouseError {
  return new GatehouseError(Status.UNAVAILABLE, reason, message, { retryDelayMs, cause });
}

/** RESOURCE_EXHAUSTED: a limit or quota was hit; retry after `retryDelayMs` when given. */
export function resourceExhausted(reason: string, message: string, retryDelayMs?: number): GatehouseError {
  return new GatehouseError(Status.RESOURCE_EXHAUSTED, reason, message, { retryDelayMs });
}

/** INTERNAL wrapping a private cause; the client sees only a generic message. */
export function internal(cause: unknown): GatehouseError {
  return new GatehouseError(Status.INTERNAL, 'INTERNAL', 'internal error', { cause });
}
