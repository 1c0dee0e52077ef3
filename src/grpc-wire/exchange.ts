import { status as Status } from '@grpc/grpc-js';
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';

/** How a gRPC call over a raw HTTP/2 stream ended, as a client reads it. */
export interface GrpcOutcome {
  code: Status;
  message: string;
  /** `grpc-status-details-bin`, decoded from base64: a google.rpc.Status. */
  details?: Buffer;
  /** Every trailer (or, for a trailers-only reply, every header), for a caller to pass on. */
  trailers: IncomingHttpHeaders;
  /**
   * The server sent this status (trailers, or a trailers-only reply). False when the stream ended without one:
   * cancelled, reset, its connection lost or never made, or a non-gRPC HTTP reply (its code then follows the
   * gRPC spec's HTTP status mapping). The message is then the exchange's own.
   */
  fromServer: boolean;
  /**
   * The server refused the stream before processing it (RST_STREAM REFUSED_STREAM, or a stream above the last
   * one a GOAWAY let through): sending the call again elsewhere is safe whatever the method.
   */
  refused?: boolean;
}

/** What an exchange reports as it goes. */
export interface ExchangeListener {
  /** Response headers (not sent for a trailers-only reply). */
  onHeaders?(headers: IncomingHttpHeaders): void;
  /** Response body bytes as they arrive: length-prefixed gRPC frames, possibly split or joined. */
  onData(chunk: Buffer): void;
  /** Exactly once, at the end. */
  onEnd(outcome: GrpcOutcome): void;
}

/** One gRPC call in flight over a raw HTTP/2 stream. */
export interface GrpcExchange {
  /** The request body stream (frames); end it after the last message. Pausing it stops reading replies (flow control). */
  readonly request: ClientHttp2Stream;
  /** Cancels the call (the client went away): the server sees CANCELLED. */
  cancel(): void;
}

/** Options of {@link startExchange}. */
export interface ExchangeOptions {
  /** Message of a stream that ended without a status and was not cancelled (the caller knows best what that means). */
  lostMessage: string;
}

/**
 * Starts a gRPC call on an HTTP/2 session: `headers` must carry `:path` and
 * whatever metadata the call sends; method, content type and `te` are set
 * here. The listener sees the reply exactly as a gRPC client would; a stream
 * reset becomes the status a gRPC client would report for it. Used by the web
 * front end (in-memory connections into the gateway) and by routed calls
 * (connections to upstreams): one gRPC client over raw HTTP/2, not two.
 */
export function startExchange(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  listener: ExchangeListener,
  options: ExchangeOptions,
): GrpcExchange {
  headers[':method'] = 'POST';
  headers['content-type'] = 'application/grpc';
  headers.te = 'trailers';
  const request = session.request(headers);
  let ended = false;
  let httpStatus = 200;
  const end = (outcome: GrpcOutcome) => {
    if (ended) return;
    ended = true;
    listener.onEnd(outcome);
  };
  // The status is passed on only after the last reply was read: a paused reader may still hold replies when the
  // trailers arrive, and they come before the status.
  let status: GrpcOutcome | undefined;
  request.on('response', (responseHeaders) => {
    if (responseHeaders['grpc-status'] !== undefined) {
      // Trailers-only: the status is in the headers and no body follows.
      status = outcomeFrom(responseHeaders);
      return;
    }
    httpStatus = Number(responseHeaders[':status']);
    // Not a gRPC reply (an HTTP error page, a proxy's answer): its body is not frames and is not passed on.
    if (httpStatus === 200 && !String(responseHeaders['content-type']).startsWith('application/grpc')) httpStatus = NOT_GRPC;
    if (httpStatus === 200) listener.onHeaders?.(responseHeaders);
  });
  request.on('data', (chunk: Buffer) => {
    if (!ended && httpStatus === 200) listener.onData(chunk);
  });
  request.on('trailers', (trailers) => {
    status = outcomeFrom(trailers);
  });
  request.on('end', () => {
    if (status !== undefined) end(status);
  });
  request.on('error', () => {});
  let cancelled = false;
  request.on('close', () => {
    if (ended) return;
    if (status !== undefined && !cancelled) return end(status);
    // No status: the caller cancelled, the server reset the stream or lost its connection, or it was no gRPC server.
    if (cancelled) end({ code: Status.CANCELLED, message: 'the call was cancelled', trailers: {}, fromServer: false });
    else if (httpStatus === NOT_GRPC) end({ code: Status.UNKNOWN, message: 'not a gRPC reply', trailers: {}, fromServer: false });
    else if (httpStatus !== 200) end({ code: codeOfHttpStatus(httpStatus), message: `HTTP status ${httpStatus}`, trailers: {}, fromServer: false });
    else {
      const refused = request.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
      end({ code: Status.UNAVAILABLE, message: options.lostMessage, trailers: {}, fromServer: false, refused });
    }
  });
  return {
    request,
    cancel() {
      cancelled = true;
      if (!request.closed) request.close(http2.constants.NGHTTP2_CANCEL);
    },
  };
}

/** Stands for a 200 reply whose content type is not gRPC's. */
const NOT_GRPC = -1;

/** The gRPC spec's mapping of an HTTP status that came without grpc-status (doc/http-grpc-status-mapping.md). */
function codeOfHttpStatus(httpStatus: number): Status {
  switch (httpStatus) {
    case 400:
      return Status.INTERNAL;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Status.UNAVAILABLE;
    default:
      return Status.UNKNOWN;
  }
}

function outcomeFrom(trailers: IncomingHttpHeaders): GrpcOutcome {
  const code = Number(trailers['grpc-status']);
  const rawMessage = trailers['grpc-message'];
  const details = trailers['grpc-status-details-bin'];
  return {
    code: Number.isInteger(code) && code >= 0 && code <= 16 ? code : Status.UNKNOWN,
    message: typeof rawMessage === 'string' ? safeDecode(rawMessage) : '',
    details: typeof details === 'string' ? Buffer.from(details, 'base64') : undefined,
    trailers,
    fromServer: true,
  };
}

/** grpc-message is percent-encoded; a malformed one is shown as sent. */
function safeDecode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
