/**
 * Property-based fuzzing of the main listener (issue 12, "Done means"): every RPC with messages generated from
 * the protos' field types, mutations of them and random bytes, and raw HTTP/2 requests with arbitrary paths,
 * metadata, grpc-timeout, compression flags and length prefixes. Bounded: FUZZ_RUNS scales the case counts
 * (default 1; the seeds are fixed, so a failure reproduces, and FUZZ_SEED picks other inputs).
 *
 * Asserted for every reply: never UNKNOWN or INTERNAL for client input, a status within the call's deadline,
 * a status message of at most STATUS_MESSAGE_BOUND bytes; and the server healthy afterwards. Violations that
 * other work items own are listed in PENDING with the item that fixes them; the main assertions exclude only
 * those, and a `todo` test per item asserts they are gone, so turning one on is deleting its PENDING entry.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { connect as http2Connect, constants as http2Constants, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { isAbsolute, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { PROTO_DIR } from '../../src/proto/load.js';
import { PROTO_FILES } from '../../src/proto/loader-options.js';
import { createStatusDetailsCodec, STATUS_DETAILS_KEY } from '../../src/status/status-details.js';
import { devTokenFor } from '../helpers/dev-token.js';
import { checkHealth } from '../helpers/health-client.js';
import { requestBytesArbitrary } from '../helpers/proto-arbitraries.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

/** Longest status message a client may get, in UTF-8 bytes (issue 12 item 8 bounds them). */
const STATUS_MESSAGE_BOUND = 512;
const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
/**
 * The server cuts every deadline to SERVER_DEADLINE_MS (deadlines.maxMs) while the client waits CLIENT_DEADLINE_MS:
 * so a status that arrives is the server's own, and one later than SERVER_DEADLINE_MS + SLACK_MS means the server
 * did not answer in time (busy engines ending at the deadline with DEADLINE_EXCEEDED are answering).
 */
const SERVER_DEADLINE_MS = 6000;
const CLIENT_DEADLINE_MS = 10_000;
const SLACK_MS = 2000;

/** One reply that broke a rule, with what reproduces it. */
interface Violation {
  rule: 'UNKNOWN or INTERNAL for client input' | 'no status within the deadline' | 'status message over the bound' | 'reset without a status';
  where: string;
  code?: number;
  reason?: string;
  details?: string;
  /** Hex of the request message (gRPC cases) or a description of the raw request. */
  repro: string;
}

/**
 * Known failures owned by other items of issue 12, each matched precisely. Delete an entry once its item has
 * landed: its violations then fail the main assertions.
 */
// Empty since item 10 (Object.prototype slot names) landed; kept so the next known failure has a place.
const PENDING: { item: string; matches: (v: Violation) => boolean }[] = [];

const pendingItemOf = (v: Violation) => PENDING.find((p) => p.matches(v))?.item;

/** Half a second of real speech (Debian's pocketsphinx test data), when installed. */
const SPEECH = existsSync('/usr/share/pocketsphinx/test/data/goforward.raw')
  ? readFileSync('/usr/share/pocketsphinx/test/data/goforward.raw').subarray(0, 16_000)
  : Buffer.alloc(16_000);

/** Valid requests per message type, which the fuzzer varies one field at a time. */
const SEEDS: Record<string, Record<string, unknown>[]> = {
  'cheesefarm.v1.CheeseRequest': [{ age: 12, type: 2, idempotency_key: 'fuzz-seed', quantity: 1 }],
  'gatehouse.tts.v1.ListVoicesRequest': [{ language_code: 'en' }, { language_code: 'ru' }],
  'gatehouse.tts.v1.SynthesizeRequest': [
    { input: { text: 'Hello there.' }, voice: { language_code: 'en-US' }, audio_config: { audio_encoding: 1 } },
    { input: { text: 'Fuzz.' }, voice: { name: 'kal16' }, audio_config: { audio_encoding: 1, sample_rate_hertz: 16000 } },
    {
      input: { template_input: { template: 'Say {a} now', slots: { a: 'one' } } },
      voice: { language_code: 'en-US' },
      audio_config: { audio_encoding: 1 },
    },
    {
      input: { template_input: { template: 'Say {toString} now', backup_phrase: 'nothing' } },
      voice: { language_code: 'en-US' },
      audio_config: { audio_encoding: 1 },
    },
  ],
  'gatehouse.stt.v1.RecognizeRequest': [{ config: { encoding: 1, sample_rate_hertz: 16000, language_code: 'en-US' }, audio: { content: SPEECH } }],
  'gatehouse.stt.v1.StreamingRecognizeRequest': [
    { streaming_config: { config: { encoding: 1, sample_rate_hertz: 16000, language_code: 'en-US' }, interim_results: true } },
    { audio_content: SPEECH },
  ],
};

describe('fuzz: every RPC of the main listener, and raw HTTP/2 (issue 12)', () => {
  let gw: TestGateway;
  let client: grpc.Client;
  let token: string;
  const violations: Violation[] = [];
  let calls = 0;
  /** Replies by method and code, printed as a diagnostic: what the fuzzing reached. */
  const codes = new Map<string, number>();
  const codec = createStatusDetailsCodec();

  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : existsSync(join(PROTO_DIR, target)) ? join(PROTO_DIR, target) : target);
  root.loadSync([...PROTO_FILES, 'grpc/health/v1/health.proto', 'grpc/reflection/v1/reflection.proto'], { keepCase: true });
  root.resolveAll();

  /** Every method the main listener serves, with its request type when a loaded proto has it. */
  const methods = [
    'cheesefarm.v1.CheeseService',
    'gatehouse.tts.v1.TextToSpeech',
    'gatehouse.stt.v1.SpeechToText',
    'grpc.health.v1.Health',
    'grpc.reflection.v1.ServerReflection',
  ].flatMap((serviceName) => {
    const service = root.lookup(serviceName);
    if (!(service instanceof protobuf.Service)) return [];
    return service.methodsArray.map((method) => ({
      path: `/${serviceName}/${method.name}`,
      requestType: method.resolvedRequestType ?? undefined,
      clientStream: Boolean(method.requestStream),
      serverStream: Boolean(method.responseStream),
    }));
  });

  before(async () => {
    gw = await startGateway({
      overrides: {
        'tts.enabled': true,
        'tts.workers': 1,
        'tts.flite.workers': 1,
        'tts.maxTextChars': 400,
        'stt.enabled': true,
        'stt.workers': 1,
        'logging.level': 'warn',
        'deadlines.maxMs': SERVER_DEADLINE_MS,
        'deadlines.defaultMs': SERVER_DEADLINE_MS,
      },
    });
    token = devTokenFor(gw.certs, 'alice');
    client = new grpc.Client(gw.target, gw.credentials('alice'), { 'grpc.ssl_target_name_override': 'localhost' });
  });
  after(async () => {
    client?.close();
    await gw?.close();
  });

  /** Records a violation for a status, when it breaks a rule. */
  function judge(
    where: string,
    repro: string,
    elapsedMs: number,
    deadlineMs: number,
    status: { code: number; details: string; metadata?: grpc.Metadata },
  ): void {
    calls++;
    const key = `${where.startsWith('raw') ? 'raw' : where} ${grpc.status[status.code]}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
    const raw = status.metadata?.get(STATUS_DETAILS_KEY)[0];
    const reason = raw ? codec.decode(Buffer.isBuffer(raw) ? raw : Buffer.from(raw)).errorInfo?.reason : undefined;
    const base = { where, code: status.code, reason, details: status.details.slice(0, 300), repro };
    if (status.code === grpc.status.UNKNOWN || status.code === grpc.status.INTERNAL)
      violations.push({ rule: 'UNKNOWN or INTERNAL for client input', ...base });
    if (Buffer.byteLength(status.details) > STATUS_MESSAGE_BOUND)
      violations.push({
        rule: 'status message over the bound',
        ...base,
        details: `${Buffer.byteLength(status.details)} bytes: ${status.details.slice(0, 120)}...`,
      });
    if (elapsedMs > deadlineMs + SLACK_MS)
      violations.push({ rule: 'no status within the deadline', ...base, details: `${Math.round(elapsedMs)} ms: ${base.details}` });
  }

  /** One gRPC call with `messages` as raw request bytes; resolves with the final status. */
  function call(method: (typeof methods)[number], messages: Uint8Array[], deadlineMs: number): Promise<grpc.StatusObject> {
    const metadata = new grpc.Metadata();
    const options = { deadline: Date.now() + deadlineMs };
    const identity = (b: Buffer | Uint8Array) => Buffer.from(b);
    return new Promise((resolve) => {
      if (!method.clientStream && !method.serverStream) {
        const c = client.makeUnaryRequest(method.path, identity, identity, messages[0] ?? new Uint8Array(), metadata, options, () => {});
        c.on('status', resolve);
      } else if (!method.clientStream) {
        const c = client.makeServerStreamRequest(method.path, identity, identity, messages[0] ?? new Uint8Array(), metadata, options);
        c.on('data', () => {});
        c.on('error', () => {});
        c.on('status', resolve);
      } else if (!method.serverStream) {
        const c = client.makeClientStreamRequest(method.path, identity, identity, metadata, options, () => {});
        c.on('status', resolve);
        for (const m of messages) c.write(m);
        c.end();
      } else {
        const c = client.makeBidiStreamRequest(method.path, identity, identity, metadata, options);
        c.on('data', () => {});
        c.on('error', () => {});
        c.on('status', resolve);
        for (const m of messages) c.write(m);
        c.end();
      }
    });
  }

  it('every RPC answers generated, mutated and random messages with a proper status in time', async () => {
    const cases = methods.flatMap((method, index) => {
      const perMethod = (method.path.includes('Speech') || method.path.includes('TextToSpeech') ? 12 : 20) * RUNS;
      const seeds = method.requestType ? (SEEDS[method.requestType.fullName.slice(1)] ?? []) : [];
      const messages = fc.array(requestBytesArbitrary(method.requestType, { maxLength: 200 }, seeds), {
        minLength: 1,
        maxLength: method.clientStream ? 3 : 1,
      });
      return fc.sample(messages, { numRuns: perMethod, seed: SEED + index }).map((m) => ({ method, messages: m }));
    });
    // A few calls at a time: engines are small pools, and the point is the replies, not load.
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < cases.length) {
          const { method, messages } = cases[next++]!;
          // WatchOrders streams until its deadline: that ending is the expected one.
          const longStream = method.path.endsWith('/WatchOrders') || method.path.endsWith('/Watch');
          const startedAt = performance.now();
          const status = await call(method, messages, longStream ? 500 : CLIENT_DEADLINE_MS);
          judge(
            method.path,
            messages.map((m) => Buffer.from(m).toString('hex')).join(' | '),
            performance.now() - startedAt,
            longStream ? 500 : SERVER_DEADLINE_MS,
            status,
          );
        }
      }),
    );
    assert.ok(calls >= cases.length, `${calls} of ${cases.length} calls finished`);
  });

  it('raw HTTP/2 requests (paths, metadata, grpc-timeout, compressed flags, length prefixes) get a proper status in time', async () => {
    const session = await openSession(gw);
    try {
      const cheeseRequest = root.lookupType('cheesefarm.v1.CheeseRequest');
      const valid = Buffer.from(cheeseRequest.encode({ age: 12, type: 2, idempotency_key: 'fuzz-raw', quantity: 1 }).finish());
      const paths = fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...methods.filter((m) => !m.serverStream).map((m) => m.path)) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('/', '', '/x', '//', '/cheesefarm.CheeseService/Order', '/cheesefarm.v1.CheeseService/', '/%00/%2e%2e'),
        },
        { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => `/${s}`) },
      );
      const timeout = fc.oneof(
        fc.constant(undefined),
        fc.tuple(fc.integer({ min: 0, max: 99_999_999 }), fc.constantFrom('H', 'M', 'S', 'm', 'u', 'n')).map(([n, u]) => `${n}${u}`),
        fc.constantFrom('5s', 'S', '', '-1S', '1.5S', '123456789S', '0n', ' 1S', 'inf'),
      );
      const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
      const metadata = fc.dictionary(fc.stringMatching(/^x-[a-z0-9_.-]{1,16}$/), headerValue, { maxKeys: 12 });
      const frame = fc.record({
        flag: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 255 })),
        payload: fc.oneof(
          fc.constant(valid),
          fc.constant(gzipSync(valid)),
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        ),
        lengthDelta: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -8, max: 1 << 20 }) }),
      });
      const request = fc.record({
        path: paths,
        timeout,
        encoding: fc.constantFrom(undefined, 'identity', 'gzip', 'deflate', 'br', 'x-unknown'),
        contentType: fc.constantFrom('application/grpc', 'application/grpc', 'application/grpc+proto', 'application/json', 'text/plain'),
        authorized: fc.boolean(),
        metadata,
        frames: fc.array(frame, { maxLength: 2 }),
      });
      const cases = fc.sample(request, { numRuns: 60 * RUNS, seed: SEED + 1000 });
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < cases.length) {
            const r = cases[next++]!;
            const headers: OutgoingHttpHeaders = {
              ':method': 'POST',
              ':path': r.path || '/',
              'content-type': r.contentType,
              te: 'trailers',
              ...r.metadata,
              ...(r.authorized ? { authorization: `Bearer ${token}` } : {}),
              ...(r.timeout !== undefined ? { 'grpc-timeout': r.timeout } : {}),
              ...(r.encoding !== undefined ? { 'grpc-encoding': r.encoding } : {}),
            };
            const body = Buffer.concat(
              r.frames.map((f) => {
                const prefix = Buffer.alloc(5);
                prefix[0] = f.flag;
                prefix.writeUInt32BE(Math.max(0, f.payload.length + f.lengthDelta), 1);
                return Buffer.concat([prefix, f.payload]);
              }),
            );
            const repro = JSON.stringify({ ...r, frames: undefined, authorization: r.authorized, body: body.toString('hex') });
            const outcome = await rawRequest(session, headers, body, CLIENT_DEADLINE_MS);
            if (outcome.kind === 'no-reply') {
              calls++;
              violations.push({ rule: 'no status within the deadline', where: `raw ${r.path}`, repro });
            } else if (outcome.kind === 'reset') {
              calls++;
              // HTTP/2 itself refuses a :path with spaces or control characters (PROTOCOL_ERROR): the right answer there.
              if (/[^\x21-\x7e]/.test(r.path || '/')) continue;
              violations.push({ rule: 'reset without a status', where: `raw ${r.path}`, details: `RST_STREAM ${outcome.rstCode}`, repro });
            } else if (outcome.grpcStatus !== undefined) {
              const md = new grpc.Metadata();
              if (outcome.detailsBin) md.set(STATUS_DETAILS_KEY, Buffer.from(outcome.detailsBin, 'base64'));
              judge(`raw ${r.path}`, repro, outcome.elapsedMs, SERVER_DEADLINE_MS, {
                code: outcome.grpcStatus,
                details: outcome.grpcMessage,
                metadata: md,
              });
            } else {
              calls++; // an HTTP-level answer (415 for a content type that is not gRPC): correct for a non-gRPC request
              assert.ok(outcome.httpStatus !== 200, `HTTP 200 without grpc-status: ${repro}`);
            }
          }
        }),
      );
    } finally {
      session.close();
    }
  });

  it('no reply was UNKNOWN or INTERNAL, late, reset, or over the message bound (except the pending items below)', (t) => {
    t.diagnostic(`${calls} replies judged: ${JSON.stringify(Object.fromEntries([...codes].sort()))}`);
    const open = violations.filter((v) => pendingItemOf(v) === undefined);
    assert.ok(calls > 100, `only ${calls} calls were judged`);
    assert.deepEqual(
      open,
      [],
      `${open.length} violations:\n${open
        .slice(0, 12)
        .map((v) => JSON.stringify(v))
        .join('\n')}`,
    );
  });

  for (const pending of PENDING) {
    it(`known failures pending ${pending.item}`, { todo: `pending ${pending.item}` }, () => {
      const found = violations.filter((v) => pendingItemOf(v) === pending.item);
      assert.deepEqual(
        found,
        [],
        `${found.length} cases, e.g.:\n${found
          .slice(0, 5)
          .map((v) => JSON.stringify(v))
          .join('\n')}`,
      );
    });
  }

  it('the server is healthy afterwards', async () => {
    assert.equal(await checkHealth(gw.healthTarget, gw.credentials('insecure')), 'SERVING');
    assert.equal(await checkHealth(gw.target, gw.credentials('alice')), 'SERVING');
    const listed = await new Promise<grpc.StatusObject>((resolve) => {
      const c = client.makeUnaryRequest(
        '/cheesefarm.v1.CheeseService/ListOrders',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        () => {},
      );
      c.on('status', resolve);
    });
    assert.equal(listed.code, grpc.status.OK, listed.details);
  });
});

/** An HTTP/2 session to the main listener with alice's client certificate. */
function openSession(gw: TestGateway): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://localhost:${gw.addresses.grpcPort}`, {
      ca: readFileSync(gw.certs.caCert),
      cert: readFileSync(gw.certs.clients.alice.cert),
      key: readFileSync(gw.certs.clients.alice.key),
      host: '127.0.0.1',
      servername: 'localhost',
    });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

type RawOutcome =
  | { kind: 'status'; httpStatus: number; grpcStatus?: number; grpcMessage: string; detailsBin?: string; elapsedMs: number }
  | { kind: 'reset'; rstCode: number }
  | { kind: 'no-reply' };

/** Sends one raw request and reads the gRPC status from the headers (trailers-only) or the trailers. */
function rawRequest(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body: Buffer, limitMs: number): Promise<RawOutcome> {
  const startedAt = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!stream.destroyed) stream.close(http2Constants.NGHTTP2_CANCEL);
      resolve(outcome);
    };
    const stream = session.request(headers, { endStream: false });
    const timer = setTimeout(() => finish({ kind: 'no-reply' }), limitMs + 1500);
    let httpStatus = 0;
    const fromHeaders = (h: Record<string, unknown>) => {
      const status = h['grpc-status'];
      if (status === undefined) return false;
      finish({
        kind: 'status',
        httpStatus,
        grpcStatus: Number(status),
        grpcMessage: percentDecoded(String(h['grpc-message'] ?? '')),
        detailsBin: h['grpc-status-details-bin'] as string | undefined,
        elapsedMs: performance.now() - startedAt,
      });
      return true;
    };
    stream.on('response', (h) => {
      httpStatus = Number(h[':status']);
      fromHeaders(h);
    });
    stream.on('trailers', (h) => fromHeaders(h));
    stream.on('data', () => {});
    stream.on('error', () => {});
    stream.on('close', () => {
      if (settled) return;
      if (httpStatus !== 0) finish({ kind: 'status', httpStatus, grpcMessage: '', elapsedMs: performance.now() - startedAt });
      else finish({ kind: 'reset', rstCode: stream.rstCode ?? -1 });
    });
    stream.end(body);
  });
}

/** grpc-message is percent-encoded; a malformed escape is kept as sent (it is still the server's text). */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
