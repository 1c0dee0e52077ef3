import { status as Status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startExchange, type GrpcOutcome } from '../../src/grpc-wire/exchange.js';
import { encodeFrame, FrameReader } from '../../src/grpc-wire/frames.js';

/**
 * How the one gRPC client over raw HTTP/2 (used towards upstreams and by the web front end) reads the ways a
 * server can end a call. The server is a real node:http2 server whose answers are scripted per path: the cases
 * are protocol edges that no well-behaved gRPC server produces on demand.
 */
const answers: Record<string, (stream: ServerHttp2Stream) => void> = {
  '/ok': (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-reply': 'h' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-trailer': 't' }));
    for (let i = 0; i < 3; i++) stream.write(encodeFrame(Buffer.from(`m${i}`)));
    stream.end();
  },
  '/trailers-only': (stream) => {
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'no%20such%20order' },
      { endStream: true },
    );
  },
  '/not-grpc': (stream) => {
    stream.respond({ ':status': 404, 'content-type': 'text/plain' });
    stream.end('not found');
  },
  '/not-grpc-200': (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'text/html' });
    stream.end('<html>a login page</html>');
  },
  '/reset': (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.write(encodeFrame(Buffer.from('partial')));
    setTimeout(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 10);
  },
  '/hang': () => {},
};

describe('a gRPC exchange on a raw HTTP/2 session', () => {
  let server: http2.Http2Server;
  let session: http2.ClientHttp2Session;

  before(async () => {
    server = http2.createServer();
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      stream.resume();
      answers[String(headers[':path'])]!(stream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  after(async () => {
    session.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Runs one call; `pauseMs` holds the reader after the first chunk, as a slow client of the gateway would. */
  const call = (path: string, options: { pauseMs?: number; cancelAfterMs?: number } = {}) =>
    new Promise<{ messages: string[]; headers?: Record<string, unknown>; outcome: GrpcOutcome }>((resolve) => {
      const frames = new FrameReader(1024);
      const messages: string[] = [];
      let headers: Record<string, unknown> | undefined;
      const exchange = startExchange(
        session,
        { ':path': path },
        {
          onHeaders: (received) => {
            headers = received;
          },
          onData(chunk) {
            for (const frame of frames.push(chunk)) messages.push(frame.payload.toString());
            if (options.pauseMs !== undefined && messages.length === 1) {
              exchange.request.pause();
              setTimeout(() => exchange.request.resume(), options.pauseMs);
            }
          },
          // Data after the end is never passed on: a status before the last reply would lose replies here.
          onEnd: (outcome) => resolve({ messages, headers, outcome }),
        },
        { lostMessage: 'lost' },
      );
      exchange.request.end(encodeFrame(Buffer.from('request')));
      if (options.cancelAfterMs !== undefined) setTimeout(() => exchange.cancel(), options.cancelAfterMs);
    });

  test('replies, headers and trailers come as sent; the status waits for a paused reader to read every reply', async () => {
    const { messages, headers, outcome } = await call('/ok', { pauseMs: 50 });
    assert.deepEqual(messages, ['m0', 'm1', 'm2']);
    assert.equal(headers?.['x-reply'], 'h');
    assert.equal(outcome.code, Status.OK);
    assert.equal(outcome.fromServer, true);
    assert.equal(outcome.trailers['x-trailer'], 't');
  });

  test('a trailers-only reply is the server status, its message percent-decoded', async () => {
    const { messages, outcome } = await call('/trailers-only');
    assert.deepEqual(messages, []);
    assert.deepEqual([outcome.code, outcome.message, outcome.fromServer], [Status.NOT_FOUND, 'no such order', true]);
  });

  test('an HTTP reply without grpc-status takes the gRPC spec mapping of its HTTP status, as no server status', async () => {
    const notFound = await call('/not-grpc');
    assert.deepEqual([notFound.outcome.code, notFound.outcome.fromServer, notFound.messages], [Status.UNIMPLEMENTED, false, []]);
    // A 200 that is not gRPC: its body is never read as frames.
    const page = await call('/not-grpc-200');
    assert.deepEqual([page.outcome.code, page.outcome.fromServer, page.messages, page.headers], [Status.UNKNOWN, false, [], undefined]);
  });

  test('a stream reset without a status is UNAVAILABLE with the caller-given message', async () => {
    const { messages, outcome } = await call('/reset');
    assert.deepEqual(messages, ['partial']);
    assert.deepEqual([outcome.code, outcome.message, outcome.fromServer], [Status.UNAVAILABLE, 'lost', false]);
  });

  test('a cancel ends the call CANCELLED at once', async () => {
    const started = Date.now();
    const { outcome } = await call('/hang', { cancelAfterMs: 20 });
    assert.deepEqual([outcome.code, outcome.fromServer], [Status.CANCELLED, false]);
    assert.ok(Date.now() - started < 1000);
  });
});
