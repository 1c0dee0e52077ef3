import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ACCESS_LOG_MESSAGE } from '../../interceptors/access-log.js';
import { loadApiDescriptors } from '../../src/web/api-descriptors.js';
import { FrameReader, encodeFrame } from '../../src/grpc-wire/frames.js';
import { curlWeb, json, type CurlWebTarget, type LooseJson } from '../helpers/curl-web.js';
import { devTokenFor } from '../helpers/dev-token.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';
const api = loadApiDescriptors();

/** Reads a gRPC-Web reply body: its messages and the trailer block (flag 0x80) as a header map. */
function grpcWebReply(body: Buffer): { messages: Buffer[]; trailers: Record<string, string> } {
  const messages: Buffer[] = [];
  const trailers: Record<string, string> = {};
  for (const frame of new FrameReader(1 << 24).push(body)) {
    if (frame.flags & 0x80) {
      for (const line of frame.payload.toString('utf8').split('\r\n').filter(Boolean)) {
        const colon = line.indexOf(':');
        trailers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
    } else messages.push(frame.payload);
  }
  return { messages, trailers };
}

/** One grpc_server_handled_total value from the admin listener. */
async function handled(gw: TestGateway, method: string, code: string): Promise<number> {
  const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('grpc_server_handled_total{') && l.includes(`grpc_method="${method}"`) && l.includes(`grpc_code="${code}"`));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('web listener in mtls mode: HTTP/JSON and gRPC-Web through the same chain (issue 15)', () => {
  let gw: TestGateway;
  let alice: CurlWebTarget;
  let bearer: string;

  before(async () => {
    gw = await startGateway({
      overrides: {
        'http.enabled': true,
        'http.host': '127.0.0.1',
        'http.port': 0,
        'http.corsOrigins': ['https://console.example'],
        'tts.enabled': true,
        'stt.enabled': true,
        'rateLimits.methods': { 'gatehouse.tts.v1.TextToSpeech/ListVoices': { requestsPerSecond: 0.01, burst: 2 } },
      },
    });
    alice = { port: gw.addresses.httpPort!, caFile: gw.certs.caCert, certFile: gw.certs.clients.alice.cert, keyFile: gw.certs.clients.alice.key };
    bearer = `authorization: Bearer ${devTokenFor(gw.certs, 'alice', {}, gw.config)}`;
  });
  after(async () => {
    await gw?.close();
  });

  it('curl with a client certificate and a token places an order and reads it back, over HTTP/2 and HTTP/1.1', async () => {
    const placed = await curlWeb(
      alice,
      '/v1/cheese/orders',
      ['-H', bearer, '-H', 'content-type: application/json', '--data-binary', '@-'],
      Buffer.from(JSON.stringify({ age: 12, type: 'BRIE', idempotency_key: 'web-1', quantity: 2 })),
    );
    assert.equal(placed.status, 200, placed.body.toString());
    assert.equal(placed.httpVersion, '2');
    const order = json(placed);
    // Canonical proto3 JSON: lowerCamelCase names, enum names, uint64 as a string, Timestamp as RFC 3339.
    assert.match(order.orderId, /^ord_/);
    assert.equal(order.type, 'BRIE');
    assert.equal(order.quantity, 2);
    assert.equal(order.orderedBy, 'spiffe://gatehouse.dev/client/alice', 'the certificate verified by the web listener names the caller');
    assert.equal(typeof order.sequence, 'string');
    assert.match(order.orderedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const read = await curlWeb(alice, `/v1/cheese/orders/${order.orderId}`, ['--http1.1', '-H', bearer]);
    assert.equal(read.status, 200);
    assert.equal(read.httpVersion, '1.1');
    assert.deepEqual(json(read), order);
    const listed = await curlWeb(alice, '/v1/cheese/orders?pageSize=5&type=BRIE', ['-H', bearer]);
    assert.ok(json(listed).orders.some((o: { orderId: string }) => o.orderId === order.orderId));
  });

  it('synthesises speech to a WAV file and recognises it', async () => {
    const wav = await curlWeb(
      alice,
      '/v1/text:synthesize',
      ['-H', bearer, '-H', 'accept: audio/wav', '-H', 'content-type: application/json', '--data-binary', '@-'],
      Buffer.from(
        JSON.stringify({
          input: { text: 'go forward ten meters' },
          voice: { name: 'slt' },
          audioConfig: { sampleRateHertz: 16000, container: 'WAV' },
        }),
      ),
    );
    assert.equal(wav.status, 200, wav.body.toString().slice(0, 300));
    assert.equal(wav.headers['content-type'], 'audio/wav');
    assert.equal(wav.body.subarray(0, 4).toString(), 'RIFF');
    assert.equal(wav.body.subarray(8, 12).toString(), 'WAVE');
    const recognised = await curlWeb(
      alice,
      '/v1/speech:recognize',
      ['-H', bearer, '-H', 'content-type: application/json', '--data-binary', '@-'],
      Buffer.from(JSON.stringify({ config: { languageCode: 'en-US' }, audio: { content: wav.body.toString('base64') } })),
    );
    assert.equal(recognised.status, 200, recognised.body.toString());
    const transcript = json(recognised).results[0].alternatives[0].transcript as string;
    assert.match(transcript, /go forward/, `transcript: ${transcript}`);
    assert.match(json(recognised).totalAudioTime, /^\d+(\.\d+)?s$/, 'Duration in the JSON mapping');
    // Without Accept: audio/*, the audio is base64 in JSON.
    const inJson = await curlWeb(
      alice,
      '/v1/text:synthesize',
      ['-H', bearer, '-H', 'content-type: application/json', '--data-binary', '@-'],
      Buffer.from(JSON.stringify({ input: { text: 'hello' }, voice: { name: 'slt' } })),
    );
    assert.ok(Buffer.from(json(inJson).audioContent, 'base64').length > 1000);
    assert.equal(json(inJson).audioInfo.audioEncoding, 'LINEAR16');
  });

  it('streams recognition over HTTP/JSON: NDJSON audio in, interim and final results out', async () => {
    const audio = readFileSync('/usr/share/pocketsphinx/test/data/goforward.raw');
    const lines = [
      JSON.stringify({ streamingConfig: { config: { encoding: 'LINEAR16', sampleRateHertz: 16000, languageCode: 'en-US' }, interimResults: true } }),
    ];
    for (let i = 0; i < audio.length; i += 16_000) lines.push(JSON.stringify({ audioContent: audio.subarray(i, i + 16_000).toString('base64') }));
    const reply = await curlWeb(
      alice,
      '/v1/speech:streamingRecognize',
      ['-H', bearer, '-H', 'content-type: application/x-ndjson', '--data-binary', '@-'],
      Buffer.from(`${lines.join('\n')}\n`),
    );
    assert.equal(reply.status, 200, reply.body.toString());
    const results = reply.body
      .toString()
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { results: { isFinal?: boolean; alternatives: { transcript: string }[] }[] }).results[0]!);
    assert.ok(results.filter((r) => !r.isFinal).length >= 1, 'interim results arrive before the final one');
    assert.equal(results.at(-1)!.isFinal, true);
    assert.equal(results.at(-1)!.alternatives[0]!.transcript, 'go forward ten meters');
    const badLine = await curlWeb(alice, '/v1/speech:streamingRecognize', [
      '-H',
      bearer,
      '-H',
      'content-type: application/x-ndjson',
      '-d',
      '{"audioContent":"AAAA"}\n{"nope":1}',
    ]);
    assert.equal(badLine.status, 400);
    assert.match(json(badLine).message, /line 2/);
  });

  it('a bad request gets 400 with the field violations; bad JSON and unknown fields get 400 naming the problem', async () => {
    const invalid = await curlWeb(alice, '/v1/cheese/orders', [
      '-H',
      bearer,
      '-H',
      'content-type: application/json',
      '-d',
      '{"age":0,"type":"BRIE","idempotencyKey":"web-bad"}',
    ]);
    assert.equal(invalid.status, 400);
    const status = json(invalid);
    assert.equal(status.code, 3);
    const badRequest = status.details.find((d: { '@type': string }) => d['@type'] === 'type.googleapis.com/google.rpc.BadRequest');
    assert.equal(badRequest.fieldViolations[0].field, 'age');
    assert.equal(status.details.find((d: { '@type': string }) => d['@type'].endsWith('ErrorInfo')).reason, 'INVALID_ARGUMENT');

    const notJson = await curlWeb(alice, '/v1/cheese/orders', ['-H', bearer, '-H', 'content-type: application/json', '-d', '{age:']);
    assert.equal(notJson.status, 400);
    assert.match(json(notJson).message, /not valid JSON/);
    const unknown = await curlWeb(alice, '/v1/cheese/orders', ['-H', bearer, '-H', 'content-type: application/json', '-d', '{"age":"twelve"}']);
    assert.equal(unknown.status, 400);
    assert.deepEqual(json(unknown).details[1].fieldViolations, [{ field: 'age', description: 'expected an integer' }]);
    const tooBig = await curlWeb(
      alice,
      '/v1/cheese/orders',
      ['-H', bearer, '-H', 'content-type: application/json', '--data-binary', '@-'],
      Buffer.alloc(gw.config.http.maxBodyBytes + 1, 0x20),
    );
    assert.equal(tooBig.status, 413);
  });

  it('no token gets 401, and the refused request never reaches the service', async () => {
    const before = await handled(gw, 'Order', 'Unauthenticated');
    const refused = await curlWeb(alice, '/v1/cheese/orders', [
      '-H',
      'content-type: application/json',
      '-d',
      '{"age":24,"type":"EMMENTAL","idempotencyKey":"web-refused"}',
    ]);
    assert.equal(refused.status, 401);
    assert.equal(json(refused).details[0].reason, 'TOKEN_MISSING');
    // Same series, same labels as a gRPC client's call.
    assert.equal(await handled(gw, 'Order', 'Unauthenticated'), before + 1);
    // Had the service seen it, the key would now belong to a 24-month EMMENTAL and this would be IDEMPOTENCY_KEY_REUSED.
    const later = await curlWeb(alice, '/v1/cheese/orders', [
      '-H',
      bearer,
      '-H',
      'content-type: application/json',
      '-d',
      '{"age":6,"type":"BRIE","idempotencyKey":"web-refused"}',
    ]);
    assert.equal(later.status, 200, later.body.toString());
    assert.equal(json(later).age, 6);
    const okCount = await handled(gw, 'Order', 'OK');
    assert.ok(okCount >= 1, `grpc_server_handled_total{grpc_method="Order",grpc_code="OK"} is ${okCount}`);
    const accessLine = gw.logs.find((l) => l.msg === ACCESS_LOG_MESSAGE && l.method === `/${CHEESE}/Order` && l.code === 'UNAUTHENTICATED');
    assert.ok(accessLine, 'the access log has the refused web call under its gRPC method');
    assert.equal(accessLine.peer, 'spiffe://gatehouse.dev/client/alice', 'and names the certificate the web listener verified');
  });

  it('a forwarded-certificate header a caller sends is dropped by the web listener', async () => {
    // A caller sends the header the web listener uses internally: it must not change who the caller is.
    const token = devTokenFor(gw.certs, 'bob', {}, gw.config);
    const frame = encodeFrame(api.root.lookupType('cheesefarm.v1.CheeseRequest').encode({ age: 3, type: 2, idempotency_key: 'forged-1' }).finish());
    const viaWeb = await curlWeb(
      { ...alice, certFile: gw.certs.clients.bob.cert, keyFile: gw.certs.clients.bob.key },
      `/${CHEESE}/Order`,
      [
        '-H',
        `authorization: Bearer ${token}`,
        '-H',
        'content-type: application/grpc-web+proto',
        '-H',
        'gatehouse-forwarded-peer: anything',
        '--data-binary',
        '@-',
      ],
      frame,
    );
    const reply = grpcWebReply(viaWeb.body);
    assert.equal(reply.trailers['grpc-status'], '0');
    const cheese = api.root.lookupType('cheesefarm.v1.Cheese').decode(reply.messages[0]!) as unknown as { ordered_by: string };
    assert.equal(cheese.ordered_by, 'spiffe://gatehouse.dev/client/bob', 'the caller is the one whose certificate the web listener verified');
  });

  it('gRPC-Web binary and text round trips, trailers included', async () => {
    const request = api.root.lookupType('cheesefarm.v1.CheeseRequest').encode({ age: 18, type: 3, idempotency_key: 'grpc-web-1' }).finish();
    const binary = await curlWeb(
      alice,
      `/${CHEESE}/Order`,
      ['-H', bearer, '-H', 'content-type: application/grpc-web+proto', '-H', 'x-grpc-web: 1', '--data-binary', '@-'],
      encodeFrame(request),
    );
    assert.equal(binary.status, 200);
    assert.equal(binary.headers['content-type'], 'application/grpc-web+proto');
    const reply = grpcWebReply(binary.body);
    assert.equal(reply.trailers['grpc-status'], '0');
    const cheese = api.root.lookupType('cheesefarm.v1.Cheese').decode(reply.messages[0]!) as unknown as { order_id: string; age: number };
    assert.equal(cheese.age, 18);

    const getOrder = encodeFrame(api.root.lookupType('cheesefarm.v1.GetOrderRequest').encode({ order_id: cheese.order_id }).finish());
    const text = await curlWeb(
      alice,
      `/${CHEESE}/GetOrder`,
      ['--http1.1', '-H', bearer, '-H', 'content-type: application/grpc-web-text', '--data-binary', '@-'],
      Buffer.from(getOrder.toString('base64')),
    );
    assert.equal(text.headers['content-type'], 'application/grpc-web-text+proto');
    const textReply = grpcWebReply(Buffer.from(text.body.toString('latin1'), 'base64'));
    assert.equal(textReply.trailers['grpc-status'], '0');
    assert.equal(
      (api.root.lookupType('cheesefarm.v1.Cheese').decode(textReply.messages[0]!) as unknown as { order_id: string }).order_id,
      cheese.order_id,
    );

    const missing = await curlWeb(
      alice,
      `/${CHEESE}/GetOrder`,
      ['-H', bearer, '-H', 'content-type: application/grpc-web+proto', '--data-binary', '@-'],
      encodeFrame(api.root.lookupType('cheesefarm.v1.GetOrderRequest').encode({ order_id: 'ord_nope' }).finish()),
    );
    const missingReply = grpcWebReply(missing.body);
    assert.equal(missingReply.trailers['grpc-status'], '5');
    assert.ok(missingReply.trailers['grpc-status-details-bin'], 'the rich status travels in the trailer frame');
  });

  it('CORS is closed except for the configured origins', async () => {
    const preflight = await curlWeb(alice, '/v1/cheese/orders', [
      '-X',
      'OPTIONS',
      '-H',
      'origin: https://console.example',
      '-H',
      'access-control-request-method: POST',
    ]);
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://console.example');
    const foreign = await curlWeb(alice, '/v1/cheese/orders', [
      '-H',
      bearer,
      '-H',
      'origin: https://evil.example',
      '-H',
      'content-type: application/json',
      '-d',
      '{"age":5,"type":"BRIE","idempotencyKey":"cors-1"}',
    ]);
    assert.equal(foreign.status, 403);
    assert.equal(json(foreign).details[0].reason, 'CORS_ORIGIN_NOT_ALLOWED');
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
  });

  it('the rate limit of the chain applies: 429 with RetryInfo once the bucket is empty', async () => {
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await curlWeb(alice, '/v1/voices?languageCode=en', ['-H', bearer]));
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 429],
    );
    const status = json(replies[2]!);
    assert.equal(status.details[0].reason, 'RATE_LIMITED');
    assert.ok(
      status.details.some((d: { '@type': string; retryDelay?: string }) => d['@type'].endsWith('RetryInfo') && /s$/.test(d.retryDelay ?? '')),
    );
  });

  it("the caller's trace context reaches the chain: the access line carries its trace id", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const reply = await curlWeb(alice, '/v1/cheese/orders?pageSize=1', ['-H', bearer, '-H', `traceparent: 00-${traceId}-00f067aa0ba902b7-01`]);
    assert.equal(reply.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 50)); // access lines are written after the reply
    assert.ok(gw.logs.some((l) => l.msg === ACCESS_LOG_MESSAGE && l.method === `/${CHEESE}/ListOrders` && l.traceId === traceId));
  });

  it('a deadline from the timeout header reaches the chain', async () => {
    const tooShort = await curlWeb(alice, '/v1/cheese/orders', ['-H', bearer, '-H', 'timeout: 1ms']);
    assert.equal(tooShort.status, 504);
    assert.equal(json(tooShort).details[0].reason, 'DEADLINE_TOO_SHORT');
  });

  it('streams WatchOrders as newline-delimited JSON', async () => {
    const watched = await curlWeb(alice, '/v1/cheese/orders:watch?afterSequence=0', ['-H', bearer, '-H', 'timeout: 2s']);
    assert.equal(watched.status, 200);
    const lines = watched.body
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LooseJson);
    assert.ok(lines.length >= 2, watched.body.toString());
    assert.equal(lines[0]!.kind, 'CREATED');
    assert.equal(lines.at(-1)!.error.code, 4, 'the stream ends at its deadline, said on the last line');
  });
});

describe('web listener in tls mode: a caller known by its token alone', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({
      overrides: {
        'server.tls.mode': 'tls',
        'http.enabled': true,
        'http.host': '127.0.0.1',
        'http.port': 0,
        // The policy says which methods token-only callers may use: here, every method, with the usual scopes.
        'policy.defaults': { requireToken: true },
      },
    });
  });
  after(async () => {
    await gw?.close();
  });

  it('serves a token holder without a client certificate, and refuses without a token', async () => {
    const target = { port: gw.addresses.httpPort!, caFile: gw.certs.caCert };
    const token = devTokenFor(gw.certs, 'alice', {}, gw.config);
    const ok = await curlWeb(target, '/v1/cheese/orders', ['-H', `authorization: Bearer ${token}`]);
    assert.equal(ok.status, 200, ok.body.toString());
    const none = await curlWeb(target, '/v1/cheese/orders');
    assert.equal(none.status, 401);
    assert.equal(json(none).details[0].reason, 'TOKEN_MISSING');
  });
});

describe('web listener in insecure mode: plaintext HTTP/1.1 for development', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({
      overrides: {
        'server.tls.mode': 'insecure',
        'http.enabled': true,
        'http.host': '127.0.0.1',
        'http.port': 0,
        'http.requestTimeoutMs': 300,
        'policy.defaults': { requireToken: true },
      },
    });
  });
  after(async () => {
    await gw?.close();
  });

  it('serves JSON in plaintext, and answers a body that stalls with 408 before any call', async () => {
    const target = { port: gw.addresses.httpPort!, plaintext: true };
    const token = devTokenFor(gw.certs, 'alice', {}, gw.config);
    const ok = await curlWeb(target, '/v1/cheese/orders?pageSize=1', ['-H', `authorization: Bearer ${token}`]);
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(ok.httpVersion, '1.1');
    // Half a body, then nothing: the listener gives up after http.requestTimeoutMs.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(gw.addresses.httpPort!, '127.0.0.1', () => {
        socket.write(
          `POST /v1/cheese/orders HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"age":`,
        );
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes('}]}')) socket.end();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(10_000, () => socket.destroy(new Error('no answer to a stalled body')));
    });
    assert.match(reply, /^HTTP\/1\.1 408/);
    assert.match(reply, /HTTP_BODY_TIMEOUT/);
  });
});

describe('web listener and the drain', () => {
  it('stops accepting connections at once, gives a web stream the drain grace, then ends it with UNAVAILABLE', async () => {
    const gw = await startGateway({ overrides: { 'http.enabled': true, 'http.host': '127.0.0.1', 'http.port': 0, 'server.shutdownGraceMs': 1000 } });
    const alice = {
      port: gw.addresses.httpPort!,
      caFile: gw.certs.caCert,
      certFile: gw.certs.clients.alice.cert,
      keyFile: gw.certs.clients.alice.key,
    };
    const bearer = `authorization: Bearer ${devTokenFor(gw.certs, 'alice', {}, gw.config)}`;
    try {
      // A watch with no deadline of its own (watch streams are exempt from the default one).
      const watch = curlWeb(alice, '/v1/cheese/orders:watch', ['-H', bearer]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const startedAt = performance.now();
      const shutdown = gw.gateway.shutdown();
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Draining: the listener takes no new connections, while the open stream goes on.
      await assert.rejects(curlWeb(alice, '/v1/cheese/orders', ['-H', bearer]), /Failed to connect|Couldn't connect|refused/);
      await shutdown;
      const tookMs = performance.now() - startedAt;
      assert.ok(tookMs >= 900 && tookMs < 5000, `shutdown took ${tookMs} ms with a 1000 ms grace`);
      // The stream had the drain's grace, then ended with a status that says to retry elsewhere: as an HTTP error
      // when nothing was sent yet (no order came), else on the stream's last line.
      const ended = await watch;
      const last = JSON.parse(ended.body.toString().trim().split('\n').at(-1)!) as LooseJson;
      if (ended.status === 200) assert.equal(last.error.code, 14, ended.body.toString());
      else assert.deepEqual([ended.status, last.code], [503, 14], ended.body.toString());
    } finally {
      await gw.close().catch(() => undefined);
    }
  });
});
