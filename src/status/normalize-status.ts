import { Metadata, status as Status } from '@grpc/grpc-js';
import type { PartialStatus } from '../../interceptors/forwarding-call.js';
import { CODE_NAMES } from '../../interceptors/method-names.js';
import { GatehouseError } from '../errors.js';
import { statusFromError, toStatus } from './to-status.js';

/**
 * For the status interceptor: a non-OK status that reached it without rich
 * details. UNKNOWN and INTERNAL (a handler that bypassed the adapters threw, or
 * grpc-js's "Unknown error") are bugs: the client gets INTERNAL with a reference
 * id and the trace id, the original text goes to the access log under that id.
 * Every other code keeps its message and gains an `ErrorInfo` named after the code.
 */
export function normalizeStatus(status: PartialStatus, requestMetadata: Metadata | undefined): PartialStatus {
  if (status.code === Status.UNKNOWN || status.code === Status.INTERNAL) {
    const cause = new Error(`a handler ended the call with ${CODE_NAMES[status.code]}: ${status.details}`);
    const mapped = toStatus(cause, requestMetadata ?? new Metadata());
    return { code: mapped.code ?? Status.INTERNAL, details: mapped.details ?? 'internal error', metadata: merged(status.metadata, mapped.metadata) };
  }
  const reason = CODE_NAMES[status.code] ?? 'UNKNOWN';
  return withDetails(new GatehouseError(status.code, reason, status.details || reason.toLowerCase().replace(/_/g, ' ')), status.metadata);
}

/** Limits named in the rewritten messages, so an operator knows which key to change. */
export interface WireStatusLimits {
  /** `server.maxReceiveMessageBytes`. */
  maxReceiveMessageBytes: number;
  /** `server.maxSendMessageBytes`. */
  maxSendMessageBytes: number;
}

/**
 * For the call-outcome layer: statuses grpc-js writes by itself get a message
 * a person can act on and rich details, like every other status.
 */
export function createWireStatusNormalizer(limits: WireStatusLimits): (status: PartialStatus) => PartialStatus {
  return (status) => {
    const details = status.details ?? '';
    const received = /^Received message larger than max \((\d+) vs\.? (\d+)\)/.exec(details);
    if (received) {
      return withDetails(new GatehouseError(Status.RESOURCE_EXHAUSTED, 'REQUEST_TOO_LARGE',
        `the request message is ${received[1]} bytes; this server accepts at most ${limits.maxReceiveMessageBytes} bytes per message ` +
        '(server.maxReceiveMessageBytes): send smaller messages or stream the data', {
          metadata: { maxReceiveMessageBytes: String(limits.maxReceiveMessageBytes), messageBytes: received[1]! },
        }), status.metadata);
    }
    if (/decompresses to a size larger than/.test(details)) {
      return withDetails(new GatehouseError(Status.RESOURCE_EXHAUSTED, 'REQUEST_TOO_LARGE',
        `the request message decompresses to more than ${limits.maxReceiveMessageBytes} bytes, the most this server accepts ` +
        '(server.maxReceiveMessageBytes)', { metadata: { maxReceiveMessageBytes: String(limits.maxReceiveMessageBytes) } }), status.metadata);
    }
    const sent = /^Sent message larger than max \((\d+) vs\.? (\d+)\)/.exec(details);
    if (sent) {
      return withDetails(new GatehouseError(Status.RESOURCE_EXHAUSTED, 'RESPONSE_TOO_LARGE',
        `the reply would be ${sent[1]} bytes; this server sends at most ${limits.maxSendMessageBytes} bytes per message ` +
        '(server.maxSendMessageBytes): ask for less per call', { metadata: { maxSendMessageBytes: String(limits.maxSendMessageBytes) } }), status.metadata);
    }
    if (status.code === Status.DEADLINE_EXCEEDED) {
      return withDetails(new GatehouseError(Status.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED', 'the deadline the client set passed before the call finished'), status.metadata);
    }
    if (/^Error deserializing request/.test(details)) {
      return withDetails(new GatehouseError(Status.INTERNAL, 'REQUEST_UNDECODABLE',
        'the request message could not be decoded as the method\'s request type: check the client uses the same .proto'), status.metadata);
    }
    if (/^Invalid grpc-timeout/.test(details)) {
      return withDetails(new GatehouseError(Status.INTERNAL, 'BAD_TIMEOUT_HEADER', `${details}: the client sent a malformed deadline`), status.metadata);
    }
    const reason = CODE_NAMES[status.code] ?? 'UNKNOWN';
    return withDetails(new GatehouseError(status.code, reason, details || reason.toLowerCase().replace(/_/g, ' ')), status.metadata);
  };
}

function withDetails(error: GatehouseError, original: Metadata | null | undefined): PartialStatus {
  const mapped = statusFromError(error);
  return { code: error.code, details: error.message, metadata: merged(original, mapped.metadata) };
}

/** Keeps trailers the sender set and adds the details trailer. */
function merged(original: Metadata | null | undefined, added: Metadata | undefined): Metadata | undefined {
  if (!original) return added;
  const result = original.clone();
  if (added) result.merge(added);
  return result;
}
