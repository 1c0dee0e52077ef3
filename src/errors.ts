import type { status as Status } from '@grpc/grpc-js';
import { boundList, boundStatusMessage, boundText, MAX_ECHO_BYTES } from '../interceptors/bounded-text.js';
import { REASONS, type Reason, type ReasonWithCode } from './status/reasons.js';

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

/** Most field violations one BadRequest carries; the message says how many there were. */
export const MAX_FIELD_VIOLATIONS = 20;

/** Most UTF-8 bytes of one field violation's description. */
const MAX_DESCRIPTION_BYTES = 512;

/**
 * The one error type of Gatehouse. It carries a stable reason from the
 * catalogue (src/status/reasons.ts: `CHEESE_OUT_OF_STOCK`), which fixes its
 * gRPC code, a message safe for people and a private cause for the log.
 * Anything thrown that is not a GatehouseError is treated as a bug and
 * becomes INTERNAL with a generic message.
 *
 * Message, field violations and metadata are bounded here, once for every
 * error: they end up in HTTP/2 trailers, and a trailer near 64 KB kills the
 * client's connection (see interceptors/bounded-text.ts).
 */
export class GatehouseError extends Error {
  override readonly name = 'GatehouseError';
  /** The gRPC status code sent to the client: the catalogue's for {@link reason}. */
  readonly code: Status;
  /** Field violations, retry delay, metadata (all bounded) and private cause. */
  readonly details: GatehouseErrorDetails;

  constructor(
    /** Stable UPPER_SNAKE reason, sent as `google.rpc.ErrorInfo.reason`. */
    readonly reason: Reason,
    /** Client-safe message: says what is wrong and how to fix it, never internals or secrets. Bounded to MAX_STATUS_MESSAGE_BYTES. */
    message: string,
    /** Field violations, retry delay, metadata and private cause. */
    details: GatehouseErrorDetails = {},
  ) {
    super(boundStatusMessage(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = REASONS[reason].code;
    this.details = boundDetails(details);
  }
}

function boundDetails(details: GatehouseErrorDetails): GatehouseErrorDetails {
  const violations = details.fieldViolations;
  const metadata = details.metadata;
  const boundedViolations = violations
    ?.map((v, i) => (i < MAX_FIELD_VIOLATIONS ? v : undefined))
    .filter((v) => v !== undefined)
    .map((v) => ({ field: boundText(v.field, MAX_ECHO_BYTES), description: boundText(v.description, MAX_DESCRIPTION_BYTES) }));
  const boundedMetadata = metadata && Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, boundText(v, MAX_ECHO_BYTES)]));
  return {
    ...details,
    ...(boundedViolations ? { fieldViolations: boundedViolations } : {}),
    ...(boundedMetadata ? { metadata: boundedMetadata } : {}),
  };
}

/** INVALID_ARGUMENT: the request itself is wrong; retrying it unchanged cannot help. */
export function invalidArgument(message: string, fieldViolations?: readonly FieldViolation[]): GatehouseError {
  return new GatehouseError('INVALID_ARGUMENT', message, { fieldViolations });
}

/** INVALID_ARGUMENT for one field, with the violation filled in from the same words. */
export function invalidField(field: string, description: string): GatehouseError {
  return invalidArgument(`${field} ${description}`, [{ field, description }]);
}

/**
 * INVALID_ARGUMENT listing every violation, so a client fixes its request in
 * one round trip: "a ...; b ..." (at most a few, then "... and N more
 * problems"), or `${subject} has N problems: ...` when `subject` is given.
 */
export function invalidFields(violations: readonly FieldViolation[], subject?: string): GatehouseError {
  const listed = boundList(
    violations.map((v) => `${v.field} ${v.description}`),
    '; ',
    'problems',
  );
  const message = violations.length === 1 || subject === undefined ? listed : `${subject} has ${violations.length} problems: ${listed}`;
  return invalidArgument(message, violations);
}

/** NOT_FOUND: the named thing does not exist. */
export function notFound(reason: ReasonWithCode<Status.NOT_FOUND>, message: string): GatehouseError {
  return new GatehouseError(reason, message);
}

/** FAILED_PRECONDITION: the system is not in a state that allows this now. */
export function failedPrecondition(reason: ReasonWithCode<Status.FAILED_PRECONDITION>, message: string): GatehouseError {
  return new GatehouseError(reason, message);
}

/** UNAVAILABLE: transient; the client may retry, after `retryDelayMs` when given. */
export function unavailable(reason: ReasonWithCode<Status.UNAVAILABLE>, message: string, retryDelayMs?: number, cause?: unknown): GatehouseError {
  return new GatehouseError(reason, message, { retryDelayMs, cause });
}

/** INTERNAL wrapping a private cause; the client sees only a generic message with a reference id. */
export function internal(cause: unknown): GatehouseError {
  return new GatehouseError('INTERNAL', 'internal error', { cause });
}
