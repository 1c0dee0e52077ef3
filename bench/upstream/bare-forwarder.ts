/**
 * The floor of any forwarding gateway on grpc-js and node:http2, for bench/upstream.bench.ts:
 * `tsx bench/upstream/bare-forwarder.ts --dir DIR --upstream HOST:PORT`.
 *
 * A bare @grpc/grpc-js server with the gateway's mTLS credentials (client certificate required, same CA) and
 * no interceptor, no token, no metrics, no log, no balancing, no retry, that passes helloworld.Greeter's
 * SayHello and SayHelloStreamReply to one upstream over one raw HTTP/2 connection, with the same gRPC
 * exchange the gateway uses (src/grpc-wire/). What Gatehouse costs beyond it is the chain and the routing;
 * what it costs against the direct call is what forwarding on Node.js costs at all. Prints its port on fd 3.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { startExchange } from '../../src/grpc-wire/exchange.js';
import { encodeFrame, FrameReader } from '../../src/grpc-wire/frames.js';
import { benchFilesIn } from '../external/bench-files.js';
import { announceReady } from '../external/servers/ready.js';

const { values } = parseArgs({ options: { dir: { type: 'string' }, upstream: { type: 'string' } } });
if (!values.dir || !values.upstream) throw new Error('--dir and --upstream are required');
const { certs } = benchFilesIn(values.dir);

const session = http2.connect(`http://${values.upstream}`);
session.once('connect', (_session: http2.ClientHttp2Session, socket: Socket) => socket.setNoDelay(true));
const identity = (bytes: Buffer) => bytes;
const LOST = { lostMessage: 'the upstream connection was lost' };

/** Sends one request upstream; each reply goes to `onReply`, the status to `onEnd`. */
function forward(path: string, request: Buffer, onReply: (message: Buffer) => void, onEnd: (status: grpc.StatusObject) => void) {
  const frames = new FrameReader(4 << 20);
  const exchange = startExchange(
    session,
    { ':path': path, ':authority': values.upstream!, ':scheme': 'http' },
    {
      onData(chunk) {
        for (const frame of frames.push(chunk)) onReply(frame.payload);
      },
      onEnd(outcome) {
        onEnd({ code: outcome.code, details: outcome.message, metadata: new grpc.Metadata() });
      },
    },
    LOST,
  );
  exchange.request.end(encodeFrame(request));
  return exchange;
}

const method = (path: string, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});
const server = new grpc.Server();
server.addService(
  { SayHello: method('/helloworld.Greeter/SayHello', false), SayHelloStreamReply: method('/helloworld.Greeter/SayHelloStreamReply', true) },
  {
    SayHello(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      let reply: Buffer | undefined;
      const exchange = forward(
        '/helloworld.Greeter/SayHello',
        call.request,
        (message) => {
          reply = message;
        },
        (status) => (status.code === grpc.status.OK ? callback(null, reply) : callback(status)),
      );
      call.on('cancelled', () => exchange.cancel());
    },
    SayHelloStreamReply(call: grpc.ServerWritableStream<Buffer, Buffer>) {
      const exchange = forward(
        '/helloworld.Greeter/SayHelloStreamReply',
        call.request,
        (message) => call.write(message),
        (status) => (status.code === grpc.status.OK ? call.end() : call.emit('error', status)),
      );
      call.on('cancelled', () => exchange.cancel());
    },
  },
);
const credentials = grpc.ServerCredentials.createSsl(
  readFileSync(certs.caCert),
  [{ cert_chain: readFileSync(certs.serverCert), private_key: readFileSync(certs.serverKey) }],
  true,
);
server.bindAsync('127.0.0.1:0', credentials, (error, port) => {
  if (error) throw error;
  announceReady({ port });
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
