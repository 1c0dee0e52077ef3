import { status as Status } from '@grpc/grpc-js';
import { quoteValue } from '../../interceptors/bounded-text.js';
import { GRPC_JS_STATUS_TEXTS as T } from '../../interceptors/grpc-compat.js';
import { GatehouseError } from '../errors.js';

/** Limits named in the rewritten messages, so an operator knows which key to change. */
export interface WireStatusLimits {
  /** `server.maxReceiveMessageBytes`: the most bytes one request message may have. */
  maxReceiveMessageBytes: number;
  /** `server.maxSendMessageBytes`: the most bytes one reply message may have. */
  maxSendMessageBytes: number;
}

/** How long an echoed header value (grpc-timeout, grpc-encoding) may be in a message, in UTF-8 bytes. */
const HEADER_ECHO_BYTES = 40;

type Rewrite = (match: RegExpExecArray, limits: WireStatusLimits) => GatehouseError;

/**
 * Statuses that grpc-js (and grpc-health-check) write with their own words,
 * recognised by code and text, each rewritten into Gatehouse's own message
 * and reason. grpc-js's texts come from interceptors/grpc-compat.ts (the pinned
 * version's wording, checked by its contract test): no public API names them, so a
 * grpc-js upgrade that rewords one makes test/integration/wire-statuses.test.ts
 * fail; the status then still gets a generic reason and a bounded message.
 */
const REWRITES: readonly (readonly [Status, RegExp, Rewrite])[] = [
  [
    Status.RESOURCE_EXHAUSTED,
    T.receivedTooLarge,
    (m, limits) =>
      new GatehouseError(
        'REQUEST_TOO_LARGE',
        `the request message is ${m[1]} bytes; this server accepts at most ${limits.maxReceiveMessageBytes} bytes per message ` +
          '(server.maxReceiveMessageBytes): send smaller messages or stream the data',
        { metadata: { maxReceiveMessageBytes: String(limits.maxReceiveMessageBytes), messageBytes: m[1]! } },
      ),
  ],
  [
    Status.RESOURCE_EXHAUSTED,
    T.decompressedTooLarge,
    (_m, limits) =>
      new GatehouseError(
        'REQUEST_TOO_LARGE',
        `the request message decompresses to more than ${limits.maxReceiveMessageBytes} bytes, the most this server accepts ` +
          '(server.maxReceiveMessageBytes)',
        { metadata: { maxReceiveMessageBytes: String(limits.maxReceiveMessageBytes) } },
      ),
  ],
  [
    Status.RESOURCE_EXHAUSTED,
    T.sentTooLarge,
    (m, limits) =>
      new GatehouseError(
        'RESPONSE_TOO_LARGE',
        `the reply would be ${m[1]} bytes; this server sends at most ${limits.maxSendMessageBytes} bytes per message ` +
          '(server.maxSendMessageBytes): ask for less per call',
        { metadata: { maxSendMessageBytes: String(limits.maxSendMessageBytes) } },
      ),
  ],
  [Status.DEADLINE_EXCEEDED, /^/, () => new GatehouseError('DEADLINE_EXCEEDED', 'the deadline the client set passed before the call finished')],
  [
    Status.INTERNAL,
    T.undecodable,
    () =>
      new GatehouseError(
        'REQUEST_UNDECODABLE',
        "the request message is not a valid protobuf encoding of the method's request type: check the client uses the same .proto and sends the message unmodified",
      ),
  ],
  [
    Status.INTERNAL,
    T.badCompression,
    () =>
      new GatehouseError(
        'REQUEST_DECOMPRESSION_FAILED',
        'the request message is flagged as compressed but is not valid data for the grpc-encoding the client named: compress it with that encoding, or send it uncompressed',
      ),
  ],
  [
    Status.INTERNAL,
    T.badTimeout,
    (m) =>
      new GatehouseError(
        'TIMEOUT_HEADER_INVALID',
        `the grpc-timeout header ${quoteValue(m[1], HEADER_ECHO_BYTES)} is malformed: it must be 1 to 8 digits and a unit (H, M, S, m, u or n), e.g. "5S"; ` +
          "a gRPC library sets it from the call's deadline",
      ),
  ],
  [
    Status.UNIMPLEMENTED,
    T.unsupportedEncoding,
    (m) =>
      new GatehouseError(
        'COMPRESSION_UNSUPPORTED',
        `the request is compressed with ${quoteValue(m[1], HEADER_ECHO_BYTES)}, which this server does not support: use gzip or deflate, or send it uncompressed`,
      ),
  ],
  [
    Status.UNIMPLEMENTED,
    T.secondRequest,
    (m) =>
      new GatehouseError(
        'REQUEST_MESSAGE_COUNT',
        `${quoteValue(m[1])} takes exactly one request message and this call sent more than one: send one message, then half-close`,
      ),
  ],
  [
    Status.UNIMPLEMENTED,
    T.noRequest,
    (m) =>
      new GatehouseError(
        'REQUEST_MESSAGE_COUNT',
        `${quoteValue(m[1])} takes exactly one request message and this call half-closed without sending it`,
      ),
  ],
  [
    Status.UNIMPLEMENTED,
    T.unknownMethod,
    (m) =>
      new GatehouseError(
        'METHOD_NOT_FOUND',
        `this server has no method ${quoteValue(m[1])}: check the package, service and method names (server reflection lists them)`,
      ),
  ],
  [
    Status.NOT_FOUND,
    /^Health status unknown for service ([\s\S]*)$/,
    (m) =>
      new GatehouseError(
        'HEALTH_SERVICE_UNKNOWN',
        `the health service knows no service named ${quoteValue(m[1])}: ask for "" (the whole server) or a fully qualified service name such as "cheesefarm.v1.CheeseService"`,
      ),
  ],
];

/**
 * The Gatehouse error for a status grpc-js or grpc-health-check wrote in its
 * own words, or undefined when the status is not one of them.
 */
export function rewriteThirdPartyStatus(code: Status, details: string, limits: WireStatusLimits): GatehouseError | undefined {
  for (const [expected, pattern, rewrite] of REWRITES) {
    if (code !== expected) continue;
    const match = pattern.exec(details);
    if (match) return rewrite(match, limits);
  }
  return undefined;
}
