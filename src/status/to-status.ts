import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { callStateOf } from '../../interceptors/call-state.js';
import { GatehouseError } from '../errors.js';
import { createStatusDetailsCodec, STATUS_DETAILS_KEY, type StatusDetailsCodec } from './status-details.js';

let codec: StatusDetailsCodec | undefined;
/** Built on first use and shared: the codec is immutable, and building it per call would parse protos. */
function statusCodec(): StatusDetailsCodec {
  return (codec ??= createStatusDetailsCodec());
}

/**
 * Maps anything a handler threw to exactly one well-formed status:
 * a GatehouseError keeps its code and message and gains `grpc-status-details-bin`;
 * anything else is a bug, so the client gets INTERNAL with a reference id (and the
 * trace id when tracing is on) while the cause waits on the call state for the
 * access log, which writes it under the same id.
 */
export function toStatus(thrown: unknown, requestMetadata: Metadata, signal?: AbortSignal): Partial<StatusObject> {
  // Once the caller is gone, what the handler threw is a consequence, not the story.
  const error = signal?.aborted && signal.reason instanceof GatehouseError ? signal.reason : thrown;
  if (!(error instanceof GatehouseError) || error.code === Status.INTERNAL || error.code === Status.UNKNOWN) {
    return internalStatus(error instanceof GatehouseError ? (error.details.cause ?? error) : error, requestMetadata);
  }
  return statusFromError(error);
}

/** The status, message and rich details for a client-safe error. */
export function statusFromError(error: GatehouseError): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, statusCodec().encode(error, error.message));
  return { code: error.code, details: error.message, metadata };
}

/**
 * INTERNAL for a bug: a reference id (and the trace id) in the message and in
 * `ErrorInfo.metadata`, while the cause waits on the call state for the access
 * log, which writes it under the same id.
 */
export function internalStatus(cause: unknown, requestMetadata: Metadata): Partial<StatusObject> {
  const referenceId = randomBytes(6).toString('hex');
  const state = callStateOf(requestMetadata);
  state.internalError = { referenceId, cause };
  const trace = state.traceId ? `, trace ${state.traceId}` : '';
  const message = `internal error (reference ${referenceId}${trace}); the operator can find the cause in the server log`;
  return statusFromError(new GatehouseError('INTERNAL', message, { metadata: { referenceId } }));
}
