import type * as grpc from '@grpc/grpc-js';
import type { PartialStatus } from '../../interceptors/forwarding-call.js';

type RespondWithError = (status: PartialStatus, stream: unknown, channelzSessionInfo?: unknown) => void;

/**
 * Gives the UNIMPLEMENTED status for an unknown method Gatehouse's words and
 * rich details. grpc-js answers a call to a method nobody registered before
 * any interceptor exists for it: it writes "The server does not implement
 * the method <path>" straight onto the HTTP/2 stream through its private
 * `_respondWithError`, with no details and with the client's path echoed
 * unbounded. No public API lets a server see or word that status, so this
 * wraps that one private method on `server` (a grpc-js internal, kept here
 * and nowhere else; it belongs in the grpc-js compatibility module).
 * Returns false, leaving grpc-js's answer alone, when grpc-js no longer has
 * the method; test/integration/wire-statuses.test.ts then fails.
 */
export function wordUnknownMethodStatus(server: grpc.Server, normalize: (status: PartialStatus) => PartialStatus): boolean {
  const target = server as unknown as { _respondWithError?: RespondWithError };
  const original = target._respondWithError;
  if (typeof original !== 'function') return false;
  target._respondWithError = function respondWithError(this: unknown, status, stream, channelzSessionInfo) {
    original.call(this, normalize(status), stream, channelzSessionInfo);
  };
  return true;
}
