/**
 * The contract of interceptors/grpc-compat.ts with the installed @grpc/grpc-js:
 * each assumption that module makes about grpc-js internals, checked against a
 * real grpc-js server on loopback. A grpc-js upgrade that breaks one fails
 * here, naming the assumption, before it silently breaks metrics, refusals or
 * messages in production.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { connect, constants as h2, type ServerHttp2Stream } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { makeTemporaryDevCertificates } from '../../certs/dev-certificates.js';
import {
  asServerInterceptingCall,
  checkRequestBytes,
  configureHttp2Servers,
  credentialsTls,
  GRPC_JS_STATUS_TEXTS,
  GRPC_JS_VERSION,
  hookHttp2Servers,
  http2StreamOf,
  messageSize,
  observeWireStatus,
  recordMessageSizes,
  wordUnknownMethodStatus,
  type InterceptingServerListener,
  type PartialStatus,
  type WireStatusObserver,
} from '../../interceptors/grpc-compat.js';

const SERVICE = 'compat.v1.Echo';
const encode = (value: unknown) => Buffer.from(JSON.stringify(value));
const decode = (bytes: Buffer): unknown => {
  const text = bytes.toString();
  if (text === 'undecodable') throw new Error('not JSON');
  return JSON.parse(text) as unknown;
};
const method = (name: string): grpc.MethodDefinition<unknown, unknown> => ({
  path: `/${SERVICE}/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: encode,
  requestDeserialize: decode,
  responseSerialize: encode,
  responseDeserialize: decode,
});
const definition = { Echo: method('Echo'), Big: method('Big') };

/** The smallest call object an interceptor can return: forwards everything, records what grpc-js itself writes. */
class Probe implements grpc.ServerInterceptingCallInterface, InterceptingServerListener, WireStatusObserver {
  static seen: PartialStatus[] = [];
  private listener!: InterceptingServerListener;
  constructor(private readonly base: grpc.ServerInterceptingCallInterface) {}
  onWireStatus(status: PartialStatus): PartialStatus {
    Probe.seen.push(status);
    return status.code === grpc.status.OK ? status : { ...status, details: `rewritten: ${status.details}` };
  }
  start(listener: InterceptingServerListener) {
    this.listener = listener;
    this.base.start(this);
  }
  sendMetadata(m: grpc.Metadata) {
    this.base.sendMetadata(m);
  }
  sendMessage(m: unknown, cb: () => void) {
    this.base.sendMessage(m, cb);
  }
  sendStatus(s: PartialStatus) {
    this.base.sendStatus(s);
  }
  startRead() {
    this.base.startRead();
  }
  getPeer() {
    return this.base.getPeer();
  }
  getDeadline() {
    return this.base.getDeadline();
  }
  getHost() {
    return this.base.getHost();
  }
  getAuthContext() {
    return this.base.getAuthContext();
  }
  getConnectionInfo() {
    return this.base.getConnectionInfo();
  }
  getMetricsRecorder() {
    return this.base.getMetricsRecorder();
  }
  onReceiveMetadata(m: grpc.Metadata) {
    this.listener.onReceiveMetadata(m);
  }
  onReceiveMessage(m: unknown) {
    this.listener.onReceiveMessage(m);
  }
  onReceiveHalfClose() {
    this.listener.onReceiveHalfClose();
  }
  onCancel() {
    this.listener.onCancel();
  }
}

/** One unary call over raw HTTP/2 to 127.0.0.1:`port`, with whatever headers and body; the status as a client reads it. */
function rawUnary(port: number, path: string, headers: Record<string, string | string[]>, body: Buffer): Promise<{ code: number; message: string }> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let status: Record<string, unknown> = {};
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) status = h;
    });
    stream.on('trailers', (t) => {
      status = t;
    });
    stream.on('close', () => {
      session.close();
      resolve({ code: Number(status['grpc-status']), message: decodeURIComponent(String(status['grpc-message'] ?? '')) });
    });
    stream.resume();
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    stream.end(frame);
  });
}

describe('grpc-js compatibility contract (interceptors/grpc-compat.ts)', () => {
  let server: grpc.Server;
  let port = 0;
  let hooked = false;
  let observed = false;
  let unknownWorded = false;
  const rawAuthorization: string[][] = [];
  const sizes: (number | undefined)[] = [];
  const streamsSeen: object[] = [];
  const streamsOfCalls: (ServerHttp2Stream | undefined)[] = [];
  const sessionsOfCalls: (object | undefined)[] = [];
  before(async () => {
    server = new grpc.Server({
      'grpc.max_receive_message_length': 64,
      interceptors: [
        (_descriptor, call) => {
          observed = observeWireStatus(call);
          streamsOfCalls.push(http2StreamOf(call));
          sessionsOfCalls.push(http2StreamOf(call)?.session); // a closed stream no longer names its session
          return asServerInterceptingCall(new Probe(call));
        },
      ],
    });
    recordMessageSizes(server);
    unknownWorded = wordUnknownMethodStatus(server, (status) => ({ ...status, details: `worded: ${status.details}` }));
    hooked = hookHttp2Servers(server, {
      onStream(stream, _headers, raw) {
        streamsSeen.push(stream);
        const values: string[] = [];
        for (let i = 0; i < raw.length; i += 2) if (raw[i] === 'authorization') values.push(raw[i + 1]!);
        rawAuthorization.push(values);
      },
    });
    server.addService(definition, {
      Echo: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const reply = { echo: call.request };
        callback(null, reply);
        sizes.push(messageSize(call.request), messageSize(reply));
      },
      Big: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, {}),
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
  });
  after(() => server?.forceShutdown());

  const raw = (path: string, headers: Record<string, string | string[]>, body: Buffer) => rawUnary(port, path, headers, body);

  it(`is the pinned grpc-js (${GRPC_JS_VERSION}), exactly, in package.json and node_modules`, async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    assert.equal(
      pkg.dependencies['@grpc/grpc-js'],
      GRPC_JS_VERSION,
      'package.json must pin @grpc/grpc-js exactly: grpc-compat.ts depends on its internals',
    );
    const installed = (await import('@grpc/grpc-js/package.json', { with: { type: 'json' } })).default.version;
    assert.equal(
      installed,
      GRPC_JS_VERSION,
      'the installed grpc-js is not the one grpc-compat.ts was checked against: re-check every assumption in it',
    );
  });

  it('assumption 1: an interceptor may return any object implementing ServerInterceptingCallInterface', async () => {
    const reply = await raw(`/${SERVICE}/Echo`, {}, encode({ a: 1 }));
    assert.equal(reply.code, grpc.status.OK, 'a call through a plain call object failed');
  });

  it("assumption 2: grpc-js's base call is recognised, and its own statuses reach the listener (rewritable) before they are written", async () => {
    Probe.seen = [];
    const tooBig = await raw(`/${SERVICE}/Big`, {}, encode({ pad: 'x'.repeat(100) }));
    assert.equal(observed, true, 'observeWireStatus no longer recognises BaseServerInterceptingCall (name, sendStatus, checkCancelled, listener)');
    assert.equal(tooBig.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(tooBig.message, /^rewritten: /, 'the status grpc-js wrote itself did not go through the observer');
    assert.ok(
      Probe.seen.some((s) => s.code === grpc.status.RESOURCE_EXHAUSTED),
      "the observer did not see grpc-js's own status",
    );
  });

  it("assumption 9: a call's HTTP/2 stream is the one its request arrived on, and its session is the connection", async () => {
    streamsSeen.length = 0;
    streamsOfCalls.length = 0;
    sessionsOfCalls.length = 0;
    await raw(`/${SERVICE}/Echo`, {}, encode({ a: 1 }));
    await raw(`/${SERVICE}/Echo`, {}, encode({ a: 2 }));
    assert.equal(streamsOfCalls.length, 2);
    assert.ok(streamsOfCalls[0] !== undefined, "http2StreamOf found no HTTP/2 stream on grpc-js's base call (its `stream` field)");
    assert.equal(streamsOfCalls[0], streamsSeen[0], 'http2StreamOf is not the stream the request arrived on');
    assert.equal(streamsOfCalls[1], streamsSeen[1]);
    assert.ok(sessionsOfCalls[0] !== undefined, 'the stream of a call in progress has no session');
    assert.notEqual(sessionsOfCalls[0], sessionsOfCalls[1], 'each connection (raw() opens one per call) must have its own session');
  });

  it("assumption 5: grpc-js's own status texts are the ones src/status/ matches", async () => {
    Probe.seen = [];
    await raw(`/${SERVICE}/Big`, {}, encode({ pad: 'x'.repeat(100) }));
    await raw(`/${SERVICE}/Echo`, {}, Buffer.from('undecodable'));
    await raw(`/${SERVICE}/Echo`, { 'grpc-timeout': 'soon' }, encode({}));
    await raw(`/${SERVICE}/Echo`, { 'grpc-encoding': 'gzip' }, Buffer.from([1]));
    const texts = Probe.seen.map((s) => s.details ?? '');
    const expect = (name: keyof typeof GRPC_JS_STATUS_TEXTS) =>
      assert.ok(
        texts.some((t) => GRPC_JS_STATUS_TEXTS[name].test(t)),
        `no grpc-js status matched GRPC_JS_STATUS_TEXTS.${name}; saw ${JSON.stringify(texts)}`,
      );
    expect('receivedTooLarge');
    expect('undecodable');
    expect('badTimeout');
  });

  it('assumption 3: the HTTP/2 servers grpc-js creates can be hooked, with the raw header list', async () => {
    assert.equal(hooked, true, 'grpc-js no longer creates its HTTP/2 servers through createHttp2Server');
    rawAuthorization.length = 0;
    await raw(`/${SERVICE}/Echo`, {}, encode({}));
    assert.equal(rawAuthorization.length, 1, 'the stream hook did not run before grpc-js handled the stream');
  });

  it("assumption 4: Server.register carries every method's (de)serializers, so message sizes are known", async () => {
    sizes.length = 0;
    await raw(`/${SERVICE}/Echo`, {}, encode({ hello: 'world' }));
    assert.equal(sizes[0], encode({ hello: 'world' }).length, 'the request size was not recorded');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sizes[1], encode({ echo: { hello: 'world' } }).length, 'the reply size was not recorded');
  });

  it('assumption 6: the status of an unknown method can be worded', async () => {
    assert.equal(unknownWorded, true, 'grpc-js no longer answers unknown methods through _respondWithError');
    const reply = await raw(`/${SERVICE}/Nope`, {}, encode({}));
    assert.equal(reply.code, grpc.status.UNIMPLEMENTED);
    assert.match(reply.message, /^worded: /);
    assert.ok(GRPC_JS_STATUS_TEXTS.unknownMethod.test(reply.message.slice('worded: '.length)), `unknown-method text changed: ${reply.message}`);
  });

  it('a stream refused in the hook is never served by grpc-js (the drain relies on it)', async () => {
    const refusing = new grpc.Server();
    hookHttp2Servers(refusing, {
      onStream(stream) {
        stream.close(h2.NGHTTP2_REFUSED_STREAM);
      },
    });
    let served = 0;
    refusing.addService(definition, {
      Echo: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => {
        served++;
        cb(null, {});
      },
      Big: () => undefined,
    });
    const refusedPort = await new Promise<number>((resolve, reject) =>
      refusing.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const session = connect(`http://127.0.0.1:${refusedPort}`);
    const code = await new Promise<number>((resolve) => {
      const stream = session.request({ ':method': 'POST', ':path': `/${SERVICE}/Echo`, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('close', () => resolve(stream.rstCode));
      stream.on('error', () => undefined);
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x7b, 0x7d]));
    });
    session.close();
    refusing.forceShutdown();
    assert.equal(code, h2.NGHTTP2_REFUSED_STREAM);
    assert.equal(served, 0, 'grpc-js served a stream the hook had closed');
  });
  /** A grpc-js server serving `definition` on loopback, set up by `setUp` before its services and its bind. */
  async function serve(setUp: (server: grpc.Server) => void, onEcho: () => void = () => undefined): Promise<{ server: grpc.Server; port: number }> {
    const server = new grpc.Server();
    setUp(server);
    server.addService(definition, {
      Echo: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        onEcho();
        cb(null, { echo: call.request });
      },
      Big: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
    });
    const boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    return { server, port: boundPort };
  }

  it('assumption 7: Node options reach the HTTP/2 servers grpc-js creates (commonServerOptions, createHttp2Server)', async () => {
    const created: unknown[] = [];
    let configured = false;
    const { server: limited, port: limitedPort } = await serve((s) => {
      configured = configureHttp2Servers(s, { maxHeaderListPairs: 8, maxHeaderListSize: 4321 }, (h) => created.push(h));
    });
    try {
      assert.equal(configured, true, 'grpc-js no longer has the private createHttp2Server and commonServerOptions');
      assert.equal(created.length, 1, 'configure did not get the HTTP/2 server grpc-js created for the bound address');
      const session = connect(`http://127.0.0.1:${limitedPort}`);
      session.on('error', () => undefined);
      const settings = await new Promise<{ maxHeaderListSize?: number }>((resolve) => session.once('remoteSettings', resolve));
      assert.equal(settings.maxHeaderListSize, 4321, 'SETTINGS_MAX_HEADER_LIST_SIZE did not reach the server grpc-js created');
      // 20 extra headers exceed the 8 pairs: Node refuses the stream itself, so grpc-js never serves it.
      const extra = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-pad-${i}`, 'v']));
      const code = await new Promise<number>((resolve) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': `/${SERVICE}/Echo`,
          'content-type': 'application/grpc',
          te: 'trailers',
          ...extra,
        });
        stream.on('close', () => resolve(stream.rstCode));
        stream.on('error', () => undefined);
        stream.end(Buffer.from([0, 0, 0, 0, 2, 0x7b, 0x7d]));
      });
      session.close();
      assert.equal(code, h2.NGHTTP2_ENHANCE_YOUR_CALM, 'maxHeaderListPairs did not reach the server grpc-js created');
    } finally {
      limited.forceShutdown();
    }
  });

  it("assumption 8: a request-bytes check added through addService runs before decoding, and a refusal is grpc-js's undecodable status", async () => {
    const paths: string[] = [];
    let served = 0;
    const { server: checking, port: checkingPort } = await serve(
      (s) =>
        checkRequestBytes(s, (path) => {
          paths.push(path);
          return path.endsWith('/Echo')
            ? (bytes) => {
                if (bytes.toString() === '"refuse"') throw new Error('refused by the check');
              }
            : undefined;
        }),
      () => {
        served++;
      },
    );
    const call = (body: Buffer) => rawUnary(checkingPort, `/${SERVICE}/Echo`, {}, body);
    try {
      assert.deepEqual(paths.sort(), [`/${SERVICE}/Big`, `/${SERVICE}/Echo`], 'checkFor was not asked once per method at addService');
      assert.equal((await call(encode('fine'))).code, grpc.status.OK);
      assert.equal(served, 1);
      const refused = await call(encode('refuse'));
      assert.notEqual(refused.code, grpc.status.OK);
      assert.ok(
        GRPC_JS_STATUS_TEXTS.undecodable.test(refused.message),
        `a throwing check no longer ends the call as undecodable: ${refused.message}`,
      );
      assert.equal(served, 1, 'the handler ran for refused bytes');
    } finally {
      checking.forceShutdown();
    }
  });

  it('assumption 10: secure server credentials give their TLS options (certificate, key, CA, client-certificate policy)', async () => {
    const certs = makeTemporaryDevCertificates();
    try {
      const credentials = grpc.ServerCredentials.createSsl(
        readFileSync(certs.caCert),
        [{ cert_chain: readFileSync(certs.serverCert), private_key: readFileSync(certs.serverKey) }],
        true,
      );
      const tls = credentialsTls(credentials);
      assert.ok(tls, 'ServerCredentials no longer has _isSecure/_getConstructorOptions/_getSecureContextOptions/_addWatcher/_removeWatcher');
      assert.equal(tls.serverOptions.requestCert, true, 'the client-certificate policy is not in _getConstructorOptions');
      const options = await new Promise<Record<string, unknown>>((resolve) => {
        const stop = tls.watch((o) => {
          stop();
          resolve(o);
        });
      });
      for (const key of ['cert', 'key', 'ca']) assert.ok(options[key], `_getSecureContextOptions has no ${key}`);
      assert.equal(credentialsTls(grpc.ServerCredentials.createInsecure()), undefined);
    } finally {
      rmSync(certs.dir, { recursive: true, force: true });
    }
  });
});
