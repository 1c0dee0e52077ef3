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

/** Reads a whole request body, refusing at once (by content-length, or while reading) one over `maxBytes`. */
export function readBody(req: WebRequest, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(new BodyTooLargeError(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        req.off('data', onData);
        req.resume(); // drain the rest unread so the reply can still go out
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, total)));
    req.once('error', reject);
  });
}
