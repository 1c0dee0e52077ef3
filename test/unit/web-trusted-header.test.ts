/**
 * The forwarded-certificate header of the web listener (src/web/) counts
 * only on internal sessions: the gRPC server's HTTP/2 hook deletes it from
 * every other connection before grpc-js reads the headers, so no client can
 * claim a certificate the web listener verified for someone else.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { connect, type ServerHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { installHttp2Hooks } from '../../src/auth/http2-hooks.js';
import { createInternalChannel, FORWARDED_PEER_HEADER } from '../../src/web/internal-channel.js';

const SERVICE = 'trusted.v1.Echo';
const identity = (bytes: Buffer) => bytes;
const definition = {
  Echo: {
    path: `/${SERVICE}/Echo`,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

describe('forwarded-certificate header: trusted only on internal sessions', () => {
  const server = new grpc.Server();
  const channel = createInternalChannel(() => server);
  let port = 0;
  before(async () => {
    installHttp2Hooks(server, {
      trustedHeader: { name: FORWARDED_PEER_HEADER, trusted: (session: ServerHttp2Session) => channel.isInternal(session) },
    });
    // The handler answers with the header value it received, or "none".
    server.addService(definition, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        callback(null, Buffer.from(String(call.metadata.get(FORWARDED_PEER_HEADER)[0] ?? 'none'))),
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
  });
  after(() => {
    channel.close();
    server.forceShutdown();
  });

  const echo = (session: ReturnType<typeof connect>) =>
    new Promise<string>((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': `/${SERVICE}/Echo`,
        'content-type': 'application/grpc',
        te: 'trailers',
        [FORWARDED_PEER_HEADER]: 'claimed-id',
      });
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks).subarray(5).toString()));
      stream.end(Buffer.alloc(5));
    });

  it('is deleted from a client connection before grpc-js reads it', async () => {
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      assert.equal(await echo(session), 'none');
    } finally {
      session.close();
    }
  });

  it('reaches the call on an internal connection', async () => {
    const internal = channel.open({});
    try {
      assert.equal(await echo(internal.session), 'claimed-id');
    } finally {
      internal.session.close();
    }
  });
});
