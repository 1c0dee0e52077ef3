import { status as Status } from '@grpc/grpc-js';
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';

/** How a gRPC call over an internal connection ended, as a client reads it. */
export interface GrpcOutcome {
  code: Status;
  message: string;
  /** `grpc-status-details-bin`, decoded from base64: a google.rpc.Status. */
  details?: Buffer;
  /** Every trailer (or, for a trailers-only reply, every header), for gRPC-Web to pass on. */
  trailers: IncomingHttpHeaders;
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

/** One gRPC call in flight over an internal connection. */
export interface GrpcExchange {
  /** The request body stream (frames); end it after the last message. */
  readonly request: ClientHttp2Stream;
  /** Cancels the call (the client went away): the server sees CANCELLED. */
  cancel(): void;
}

/**
 * Starts a gRPC call: `headers` must carry `:path` and whatever metadata the
 * call sends; content type and `te` are set here. The listener sees the reply
 * exactly as a gRPC client would; a stream reset becomes the status a gRPC
 * client would report for it.
 */
export function startExchange(session: ClientHttp2Session, headers: OutgoingHttpHeaders, listener: ExchangeListener): GrpcExchange {
  const request = session.request({
    ':method': 'POST',
    'content-type': 'application/grpc',
    te: 'trailers',
    ...headers,
  });
  let ended = false;
  const end = (outcome: GrpcOutcome) => {
    if (ended) return;
    ended = true;
    listener.onEnd(outcome);
  };
  request.on('response', (responseHeaders) => {
    if (responseHeaders['grpc-status'] !== undefined) {
      // Trailers-only: the status is in the headers and no body follows.
      end(outcomeFrom(responseHeaders));
      return;
    }
    listener.onHeaders?.(responseHeaders);
  });
  request.on('data', (chunk: Buffer) => {
    if (!ended) listener.onData(chunk);
  });
  request.on('trailers', (trailers) => end(outcomeFrom(trailers)));
  request.on('error', () => {});
  let cancelled = false;
  request.on('close', () => {
    // No status: the caller cancelled, or the server cut the stream (it drains or stops): retrying elsewhere helps.
    // A failing handler never ends this way; grpc-js always sends it a status.
    const code = cancelled ? Status.CANCELLED : Status.UNAVAILABLE;
    end({ code, message: cancelled ? 'the call was cancelled' : 'the gateway is shutting down; retry', trailers: {} });
  });
  return {
    request,
    cancel() {
      cancelled = true;
      if (!request.closed) request.close(http2.constants.NGHTTP2_CANCEL);
    },
  };
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
  };
}

/** grpc-message is percent-encoded; a malformed one is shown as sent. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
