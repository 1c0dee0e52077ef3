import { status as Status } from '@grpc/grpc-js';
import type { InterceptorReason } from '../../interceptors/reasons.js';

/** What the catalogue says about one `google.rpc.ErrorInfo.reason`. */
export interface ReasonEntry {
  /** The gRPC status code every error with this reason carries. */
  readonly code: Status;
  /** The HTTP status a JSON front end answers with: gRPC's usual mapping of {@link code} unless the entry overrides it. */
  readonly http: number;
  /** True when the same request may succeed if sent again later (after `RetryInfo`'s delay when one is given). */
  readonly retryable: boolean;
  /** One line for people: what happened and what to do. */
  readonly meaning: string;
}

/**
 * gRPC code to HTTP status, as gRPC-Gateway and Google's HTTP APIs map them
 * (google/rpc/code.proto). UNKNOWN is absent: Gatehouse never sends it.
 */
export const HTTP_STATUS_FOR_CODE: Readonly<Partial<Record<Status, number>>> = Object.freeze({
  [Status.CANCELLED]: 499,
  [Status.INVALID_ARGUMENT]: 400,
  [Status.DEADLINE_EXCEEDED]: 504,
  [Status.NOT_FOUND]: 404,
  [Status.ALREADY_EXISTS]: 409,
  [Status.PERMISSION_DENIED]: 403,
  [Status.RESOURCE_EXHAUSTED]: 429,
  [Status.FAILED_PRECONDITION]: 400,
  [Status.ABORTED]: 409,
  [Status.OUT_OF_RANGE]: 400,
  [Status.UNIMPLEMENTED]: 501,
  [Status.INTERNAL]: 500,
  [Status.UNAVAILABLE]: 503,
  [Status.DATA_LOSS]: 500,
  [Status.UNAUTHENTICATED]: 401,
});

/** An entry whose type keeps its code literal, so helpers can demand reasons of one code ({@link ReasonWithCode}). */
function entry<K extends Status>(code: K, retryable: boolean, meaning: string, http?: number): ReasonEntry & { readonly code: K } {
  return Object.freeze({ code, http: http ?? HTTP_STATUS_FOR_CODE[code]!, retryable, meaning });
}

const C = Status;

/**
 * The one catalogue of every `google.rpc.ErrorInfo.reason` Gatehouse sends
 * (domain `gatehouse.dev`). Every error and refusal is built from it: a
 * GatehouseError takes its code from here, so a reason and its code can never
 * disagree. The README's error table is generated from it
 * (`npm run gen:reasons`), and test/unit/status-reasons.test.ts fails when
 * code uses a reason that is missing here or in the README.
 *
 * Reasons named after a code (`NOT_FOUND`, ...) are for statuses whose source
 * names no reason of its own: the health service, reflection, grpc-js.
 */
export const REASONS = Object.freeze({
  // Bugs and the call's own life.
  INTERNAL: entry(
    C.INTERNAL,
    false,
    'a bug in the gateway; the message carries a reference id (and the trace id) under which the server log has the cause',
  ),
  CANCELLED: entry(C.CANCELLED, false, 'the client cancelled the call'),
  DEADLINE_EXCEEDED: entry(
    C.DEADLINE_EXCEEDED,
    true,
    "the call's deadline (the client's, or the server's default or maximum) passed before it finished",
  ),
  DEADLINE_TOO_SHORT: entry(
    C.DEADLINE_EXCEEDED,
    false,
    "the call arrived with less time left than the method's minimum budget (deadlines.minBudgetMs); send a longer deadline",
  ),

  // The request as bytes on the wire.
  REQUEST_UNDECODABLE: entry(C.INVALID_ARGUMENT, false, "the request message is not a valid protobuf encoding of the method's request type"),
  REQUEST_DECOMPRESSION_FAILED: entry(C.INVALID_ARGUMENT, false, 'a compressed request message is not valid for the encoding named in grpc-encoding'),
  COMPRESSION_UNSUPPORTED: entry(
    C.UNIMPLEMENTED,
    false,
    'the request is compressed with an encoding the server does not support (use gzip, deflate or none)',
  ),
  TIMEOUT_HEADER_INVALID: entry(C.INVALID_ARGUMENT, false, 'the grpc-timeout header is malformed (1 to 8 digits and a unit H, M, S, m, u or n)'),
  REQUEST_MESSAGE_COUNT: entry(C.INVALID_ARGUMENT, false, 'a method that takes one request message got none or more than one'),
  REQUEST_TOO_LARGE: entry(
    C.RESOURCE_EXHAUSTED,
    false,
    'a request message is larger than server.maxReceiveMessageBytes; send smaller messages or stream',
    413,
  ),
  RESPONSE_TOO_LARGE: entry(C.RESOURCE_EXHAUSTED, false, 'the reply would be larger than server.maxSendMessageBytes; ask for less per call'),
  METHOD_NOT_FOUND: entry(C.UNIMPLEMENTED, false, 'the server has no such method; check the service and method name (reflection lists them)'),
  INVALID_ARGUMENT: entry(C.INVALID_ARGUMENT, false, 'request fields are invalid; BadRequest names each field and what is wrong'),

  // Authentication and authorization (interceptors/reasons.ts).
  TOKEN_MISSING: entry(C.UNAUTHENTICATED, false, 'no bearer token; send "authorization: Bearer <JWT>"'),
  TOKEN_DUPLICATE: entry(C.UNAUTHENTICATED, false, 'more than one authorization header; send exactly one'),
  TOKEN_SCHEME_INVALID: entry(C.UNAUTHENTICATED, false, 'the authorization header is not "Bearer <token>"'),
  TOKEN_TOO_LARGE: entry(C.UNAUTHENTICATED, false, 'the bearer token is longer than the server accepts (8 KiB)'),
  TOKEN_MALFORMED: entry(C.UNAUTHENTICATED, false, 'the bearer token is not a well-formed compact JWS'),
  TOKEN_ALGORITHM_REFUSED: entry(C.UNAUTHENTICATED, false, "the token's alg is not one the server accepts for its key"),
  TOKEN_KID_INVALID: entry(
    C.UNAUTHENTICATED,
    false,
    "the token's kid is longer than 128 characters or has characters other than A-Z a-z 0-9 . _ : + = -",
  ),
  TOKEN_KID_UNKNOWN: entry(
    C.UNAUTHENTICATED,
    false,
    "no configured key has the token's kid (or the token has no kid while several keys are configured)",
  ),
  TOKEN_SIGNATURE_INVALID: entry(C.UNAUTHENTICATED, false, "the token's signature does not verify"),
  TOKEN_EXPIRED: entry(C.UNAUTHENTICATED, false, 'the token has expired; get a new one'),
  TOKEN_NOT_YET_VALID: entry(C.UNAUTHENTICATED, false, "the token's nbf lies in the future"),
  TOKEN_EXP_MISSING: entry(C.UNAUTHENTICATED, false, 'the token has no exp claim'),
  TOKEN_LIFETIME_TOO_LONG: entry(C.UNAUTHENTICATED, false, 'the token lives longer than auth.maxTokenLifetimeSec allows'),
  TOKEN_ISSUER_INVALID: entry(C.UNAUTHENTICATED, false, "the token's iss is not an accepted issuer"),
  TOKEN_AUDIENCE_INVALID: entry(C.UNAUTHENTICATED, false, "the token's aud does not name this gateway"),
  TOKEN_TYPE_INVALID: entry(C.UNAUTHENTICATED, false, "the token's typ header is not the one configured (auth.typ)"),
  TOKEN_CLAIMS_INVALID: entry(C.UNAUTHENTICATED, false, 'a token claim has the wrong type or value'),
  TOKEN_BINDING_MISMATCH: entry(C.UNAUTHENTICATED, false, 'the token is bound (cnf x5t#S256) to a different client certificate'),
  TOKEN_BINDING_REQUIRED: entry(C.UNAUTHENTICATED, false, 'the policy requires a certificate-bound token and this one is not bound'),
  TOKEN_SUBJECT_MISMATCH: entry(C.UNAUTHENTICATED, false, "the token's sub does not match the client certificate's identity"),
  CLIENT_CERTIFICATE_REQUIRED: entry(C.UNAUTHENTICATED, false, 'the call came without a verified client certificate'),
  IDENTITY_NOT_ALLOWED: entry(
    C.PERMISSION_DENIED,
    false,
    "the client certificate's identity is not admitted (auth.allowedIdentities or the method's policy)",
  ),
  SCOPE_MISSING: entry(C.PERMISSION_DENIED, false, 'the token lacks a scope the method requires'),
  METHOD_NOT_IN_POLICY: entry(C.PERMISSION_DENIED, false, 'the access policy does not list the method, so it is denied'),

  // Limits.
  RATE_LIMITED: entry(C.RESOURCE_EXHAUSTED, true, "the caller's rate limit for the method is used up; retry after RetryInfo's delay"),
  RATE_LIMITER_UNAVAILABLE: entry(
    C.UNAVAILABLE,
    true,
    "the shared rate limiter (Redis) could not decide and rateLimits.onStoreError is deny; retry after RetryInfo's delay",
  ),
  TOO_MANY_STREAMS: entry(
    C.RESOURCE_EXHAUSTED,
    true,
    'the connection has rateLimits.maxConcurrentStreamsPerConnection calls in flight; retry when one ends',
  ),
  METADATA_TOO_LARGE: entry(
    C.RESOURCE_EXHAUSTED,
    false,
    'the request metadata has more entries or bytes than server.maxMetadataEntries / maxMetadataBytes; send fewer or smaller headers',
    431,
  ),

  // Health.
  HEALTH_SERVICE_UNKNOWN: entry(C.NOT_FOUND, false, 'the health service knows no service by that name (empty = the whole server)'),

  // CheeseService.
  ORDER_NOT_FOUND: entry(C.NOT_FOUND, false, 'no order has that id'),
  IDEMPOTENCY_KEY_REUSED: entry(C.ALREADY_EXISTS, false, 'the idempotency key was used before for a different order; use a new key'),
  CHEESE_OUT_OF_STOCK: entry(C.FAILED_PRECONDITION, false, 'not enough cheese of that type and age in stock'),
  STORE_UNAVAILABLE: entry(
    C.UNAVAILABLE,
    true,
    "the order store is down, restarting, unreachable or not open yet; retry with the same idempotency_key after RetryInfo's delay",
  ),
  STORE_BUSY: entry(C.UNAVAILABLE, true, 'the order store is locked, timed out or out of connections; retry with the same idempotency_key shortly'),
  STORE_FULL: entry(
    C.RESOURCE_EXHAUSTED,
    true,
    'the order store is out of disk space and wrote nothing; retry with the same idempotency_key once space is freed',
  ),
  STORE_READ_ONLY: entry(
    C.UNAVAILABLE,
    true,
    'the order store cannot write at the moment (read-only file system or standby) and wrote nothing; retry later',
  ),
  STORE_DAMAGED: entry(C.FAILED_PRECONDITION, false, "the order store's data is damaged; retrying cannot help until an operator repairs it"),

  // TextToSpeech.
  VOICE_NOT_FOUND: entry(C.NOT_FOUND, false, 'no voice has that name; ListVoices shows them'),
  LANGUAGE_NOT_SUPPORTED: entry(C.NOT_FOUND, false, 'no voice speaks that language'),
  TTS_WARMING_UP: entry(C.UNAVAILABLE, true, 'the speech engines are still starting; retry shortly'),

  // SpeechToText.
  STT_STARTING: entry(C.UNAVAILABLE, true, 'the recognizer is still starting; retry shortly'),

  // Speech engine worker pool (src/engines/worker-pool/worker-pool-status.ts); ErrorInfo metadata "engine" names the engine.
  ENGINE_BUSY: entry(
    C.RESOURCE_EXHAUSTED,
    true,
    "every worker of the engine is busy and its wait queue is full or the wait timed out; retry after RetryInfo's delay",
  ),
  ENGINE_WORKER_FAILED: entry(C.UNAVAILABLE, true, 'the engine worker serving the call crashed or stopped making progress and was replaced; retry'),
  ENGINE_IDLE_TIMEOUT: entry(
    C.RESOURCE_EXHAUSTED,
    false,
    'the client stopped reading or sending and held an engine worker idle too long (or fell further behind than its buffer while other slow readers held workers); read and send without long pauses',
  ),
  ENGINE_UNAVAILABLE: entry(
    C.UNAVAILABLE,
    false,
    'no worker of the engine can start here (a library or model is missing; the message names what to install); the gateway keeps retrying',
  ),
  ENGINE_STOPPING: entry(C.UNAVAILABLE, true, 'the engines are shutting down; retry on another instance'),

  // Upstream routing (src/upstream/).
  UPSTREAM_UNAVAILABLE: entry(
    C.UNAVAILABLE,
    true,
    "the service is routed to an upstream that has no healthy endpoint, or whose endpoint did not answer; retry after RetryInfo's delay",
  ),
  UPSTREAM_PROTOCOL_ERROR: entry(
    C.INTERNAL,
    false,
    'the upstream the service is routed to broke the gRPC protocol (a unary reply without a message, unreadable headers); its operators must fix it',
  ),

  // The web listener (src/web/): refusals before any call is made, for what only HTTP can get wrong.
  HTTP_BODY_INVALID: entry(
    C.INVALID_ARGUMENT,
    false,
    "the HTTP body is not JSON of the method's request type (proto3 JSON mapping); BadRequest names the field",
  ),
  HTTP_BODY_TOO_LARGE: entry(C.RESOURCE_EXHAUSTED, false, 'the HTTP body is larger than http.maxBodyBytes', 413),
  HTTP_BODY_TIMEOUT: entry(C.RESOURCE_EXHAUSTED, false, 'the HTTP body did not arrive within http.requestTimeoutMs; send it without stalling', 408),
  HTTP_CONTENT_TYPE_UNSUPPORTED: entry(
    C.INVALID_ARGUMENT,
    false,
    "the body's content-type is not application/json (HTTP/JSON) or application/grpc-web[-text][+proto] (gRPC-Web)",
    415,
  ),
  HTTP_ROUTE_NOT_FOUND: entry(C.NOT_FOUND, false, 'no annotated method has this URL; the README lists the routes'),
  HTTP_METHOD_NOT_ALLOWED: entry(C.NOT_FOUND, false, 'the URL exists for another HTTP method (GET, POST)', 405),
  CORS_ORIGIN_NOT_ALLOWED: entry(C.PERMISSION_DENIED, false, 'the browser origin is not in http.corsOrigins'),

  // Statuses whose source names no reason (the health service, reflection, grpc-js), named after their code.
  NOT_FOUND: entry(C.NOT_FOUND, false, 'not found (from a component that names no reason)'),
  ALREADY_EXISTS: entry(C.ALREADY_EXISTS, false, 'already exists (from a component that names no reason)'),
  PERMISSION_DENIED: entry(C.PERMISSION_DENIED, false, 'permission denied (from a component that names no reason)'),
  RESOURCE_EXHAUSTED: entry(C.RESOURCE_EXHAUSTED, true, 'a limit was hit (from a component that names no reason)'),
  FAILED_PRECONDITION: entry(C.FAILED_PRECONDITION, false, 'the system is not in a state that allows this (from a component that names no reason)'),
  ABORTED: entry(C.ABORTED, true, 'aborted by a conflict; retry (from a component that names no reason)'),
  OUT_OF_RANGE: entry(C.OUT_OF_RANGE, false, 'a value is out of range (from a component that names no reason)'),
  UNIMPLEMENTED: entry(C.UNIMPLEMENTED, false, 'not implemented (from a component that names no reason)'),
  UNAVAILABLE: entry(C.UNAVAILABLE, true, 'temporarily unavailable; retry (from a component that names no reason)'),
  DATA_LOSS: entry(C.DATA_LOSS, false, 'unrecoverable data loss (from a component that names no reason)'),
  UNAUTHENTICATED: entry(C.UNAUTHENTICATED, false, 'not authenticated (from a component that names no reason)'),
} satisfies Record<string, ReasonEntry>);

/** One catalogued `ErrorInfo.reason`. */
export type Reason = keyof typeof REASONS;

/** The catalogued reasons whose code is `K`: `notFound()` takes only NOT_FOUND reasons. */
export type ReasonWithCode<K extends Status> = { [R in Reason]: (typeof REASONS)[R]['code'] extends K ? R : never }[Reason];

// Every reason an interceptor can refuse with must be catalogued: this line stops compiling when one is not.
const interceptorReasonsAreCatalogued: Readonly<Record<InterceptorReason, ReasonEntry>> = REASONS;
void interceptorReasonsAreCatalogued;

/** Generic reasons by code, for statuses whose source names none (index = code). */
const GENERIC_BY_CODE: Readonly<Partial<Record<Status, Reason>>> = Object.freeze({
  [C.CANCELLED]: 'CANCELLED',
  [C.UNKNOWN]: 'INTERNAL',
  [C.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [C.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [C.NOT_FOUND]: 'NOT_FOUND',
  [C.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [C.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [C.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
  [C.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [C.ABORTED]: 'ABORTED',
  [C.OUT_OF_RANGE]: 'OUT_OF_RANGE',
  [C.UNIMPLEMENTED]: 'UNIMPLEMENTED',
  [C.INTERNAL]: 'INTERNAL',
  [C.UNAVAILABLE]: 'UNAVAILABLE',
  [C.DATA_LOSS]: 'DATA_LOSS',
  [C.UNAUTHENTICATED]: 'UNAUTHENTICATED',
} satisfies Partial<Record<Status, Reason>>);

/** The reason for a status with `code` whose source named none. */
export function genericReason(code: Status): Reason {
  return GENERIC_BY_CODE[code] ?? 'INTERNAL';
}
