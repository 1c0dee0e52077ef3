import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { createStatusDetailsCodec, STATUS_DETAILS_KEY, type DecodedStatus } from '../../src/status/status-details.js';
import type { TestGateway } from './start-gateway.js';

const codec = createStatusDetailsCodec();

/** One gRPC message as it goes on the wire: compressed flag, 4-byte big-endian length, bytes. */
export function grpcFrame(message: Buffer | Uint8Array, compressed = false): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(compressed ? 1 : 0, 0);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** What a client reads from one call: status, message (percent-decoded), decoded details, how long it took. */
export interface RawReply {
  code: number;
  message: string;
  /** `grpc-message` as it was on the wire (percent-encoded), to measure its size. */
  wireMessage: string;
  details?: DecodedStatus;
  /** Milliseconds from sending the request to the end of the stream. */
  ms: number;
}

/** Options for {@link rawCall}. */
export interface RawCallOptions {
  /** Extra request headers (e.g. `grpc-timeout`, `grpc-encoding`). */
  headers?: Record<string, string>;
  /** Request body bytes, already framed (see {@link grpcFrame}); default none. */
  body?: Buffer;
  /** Give up after this long, ms; default 5000. */
  timeoutMs?: number;
}

/**
 * One gRPC call on an HTTP/2 session with Node's own http2 client, which
 * sends whatever bytes and headers it is given (grpc-js clients cannot send
 * undecodable messages, bad compression or malformed grpc-timeout values).
 * Rejects when no status arrives within the timeout.
 */
export function rawCall(session: http2.ClientHttp2Session, path: string, options: RawCallOptions = {}): Promise<RawReply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...options.headers,
    });
    const fields: Record<string, string> = {};
    const take = (headers: http2.IncomingHttpHeaders) => {
      for (const [key, value] of Object.entries(headers)) if (typeof value === 'string') fields[key] = value;
    };
    const timer = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      reject(new Error(`no status for ${path.slice(0, 80)} within ${options.timeoutMs ?? 5000} ms`));
    }, options.timeoutMs ?? 5000);
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.on('close', () => {
      clearTimeout(timer);
      if (fields['grpc-status'] === undefined) {
        reject(new Error(`the stream for ${path.slice(0, 80)} closed without grpc-status (RST code ${stream.rstCode})`));
        return;
      }
      const raw = fields[STATUS_DETAILS_KEY];
      const wireMessage = fields['grpc-message'] ?? '';
      resolve({
        code: Number(fields['grpc-status']),
        message: decodeURIComponent(wireMessage),
        wireMessage,
        ...(raw ? { details: codec.decode(Buffer.from(raw, 'base64')) } : {}),
        ms: performance.now() - started,
      });
    });
    stream.end(options.body ?? Buffer.alloc(0));
  });
}

/** An HTTP/2 session to the gateway's mTLS listener as alice. Close it when done. */
export function connectMain(gw: TestGateway): Promise<http2.ClientHttp2Session> {
  return connected(
    http2.connect(`https://${gw.target}`, {
      ca: readFileSync(gw.certs.caCert),
      cert: readFileSync(gw.certs.clients.alice.cert),
      key: readFileSync(gw.certs.clients.alice.key),
      servername: 'localhost',
    }),
  );
}

/** An HTTP/2 session to the gateway's plaintext health-only listener. */
export function connectHealth(gw: TestGateway): Promise<http2.ClientHttp2Session> {
  return connected(http2.connect(`http://${gw.healthTarget}`));
}

function connected(session: http2.ClientHttp2Session): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    session.once('connect', () => {
      session.off('error', reject);
      resolve(session);
    });
    session.once('error', reject);
  });
}
