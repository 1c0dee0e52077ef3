import type { Http2ServerRequest } from 'node:http2';
import type { IncomingMessage } from 'node:http';

/** A web request on either protocol (Node's HTTP/2 compatibility API and HTTP/1.1 share this shape). */
export type WebRequest = IncomingMessage | Http2ServerRequest;

/** Thrown when a body is longer than allowed; nothing past the limit is buffered. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`the request body is larger than ${maxBytes} bytes (http.maxBodyBytes)`);
  }
}

/** Thrown when a body does not arrive in time (a slow or stalled sender holding the connection). */
export class BodyTimeoutError extends Error {
  override readonly name = 'BodyTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`the request body did not arrive within ${timeoutMs} ms (http.requestTimeoutMs)`);
  }
}

/**
 * Reads a whole request body, refusing at once (by content-length, or while
 * reading) one over `maxBytes`, and one still incomplete after `timeoutMs`
 * (0: no limit). The service's deadline only starts with the call, after the
 * body: this bounds the time before it.
 */
export function readBody(req: WebRequest, maxBytes: number, timeoutMs = 0): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(new BodyTooLargeError(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = timeoutMs > 0 ? setTimeout(() => stop(new BodyTimeoutError(timeoutMs)), timeoutMs) : undefined;
    const stop = (error: Error) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.resume(); // drain the rest unread so the reply can still go out
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) stop(new BodyTooLargeError(maxBytes));
      else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, total));
    });
    req.once('error', (error) => stop(error));
  });
}
