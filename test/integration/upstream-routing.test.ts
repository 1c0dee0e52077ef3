import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { devClientIdentity } from '../../certs/dev-certificates.js';
import { channelCredentials } from '../../src/client/grpc-client.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging/logger.js';
import { startDiscoveryRefresh } from '../../src/upstream/discovery-refresh.js';
import { createStatusDetailsCodec, STATUS_DETAILS_KEY } from '../../src/status/status-details.js';
import { assertRejects } from '../helpers/assert-status.js';
import { waitForHealth } from '../helpers/health-client.js';
import { generateUpstreamContracts, startPythonUpstream, type PythonUpstream, type UpstreamContracts } from '../helpers/python-upstream.js';
import { reflectionRequest } from '../helpers/reflection.js';
import { startGateway, type TestClientIdentity, type TestGateway } from '../helpers/start-gateway.js';

type Callback<T> = (error: grpc.ServiceError | null, reply?: T) => void;
type Reply = { message: string };
/** The Greeter as grpc-js's generic client exposes it. */
interface Greeter extends grpc.Client {
  SayHello(request: { name: string }, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<Reply>): grpc.ClientUnaryCall;
  SayHelloStreamReply(request: { name: string }, metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<Reply>;
  SayHelloBidiStream(metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<{ name: string }, Reply>;
  SayHelloClientStream(metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<Reply>): grpc.ClientWritableStream<{ name: string }>;
}

const codec = createStatusDetailsCodec();
const TLS_NAME = { 'grpc.ssl_target_name_override': 'localhost' };

describe('routing services to a Python grpcio upstream', () => {
  let contracts: UpstreamContracts;
  let upstream: PythonUpstream;
  let gw: TestGateway;
  const clients: grpc.Client[] = [];
  const client = <T extends grpc.Client>(service: string, identity: TestClientIdentity = 'alice'): T => {
    const Client = contracts.clientFor(service);
    const made = new Client(gw.target, gw.credentials(identity), TLS_NAME) as unknown as T;
    clients.push(made);
    return made;
  };
  const unary = <T>(call: (callback: Callback<T>) => grpc.ClientUnaryCall | grpc.ClientWritableStream<unknown>) => {
    let headers: grpc.Metadata | undefined;
    let trailers: grpc.Metadata | undefined;
    const reply = new Promise<T>((resolve, reject) => {
      const running = call((error, value) => (error ? reject(error) : resolve(value!)));
      running.on('metadata', (m: grpc.Metadata) => {
        headers = m;
      });
      running.on('status', (s: grpc.StatusObject) => {
        trailers = s.metadata;
      });
    });
    return reply.then((value) => ({ value, headers: () => headers, trailers: () => trailers }));
  };
  const callsTo = async (method: string) => (await upstream.calls()).filter((c) => c.method === method);

  before(async () => {
    contracts = generateUpstreamContracts();
    upstream = await startPythonUpstream(contracts);
    gw = await startGateway({
      overrides: {
        upstreams: { py: { targets: [upstream.target], healthCheck: { intervalMs: 200 } } },
        routes: [
          // From the upstream's server reflection.
          { service: 'helloworld.*', upstream: 'py', retry: { idempotentMethods: ['SayHello'] } },
          { service: 'Search', upstream: 'py' },
          // From a descriptor set protoc wrote.
          { service: 'cheesefarm.CheeseService', upstream: 'py', descriptorSetFile: contracts.descriptorSetFile },
        ],
        'policy.services': {
          'helloworld.Greeter': {},
          'cheesefarm.CheeseService': { scopes: ['cheese.order'] },
          Search: { identities: [devClientIdentity('alice')] },
        },
      },
    });
    await waitForHealth(gw.target, gw.credentials('alice'), 'SERVING', 10_000, 'helloworld.Greeter');
  });

  after(async () => {
    for (const c of clients) c.close();
    await gw?.close();
    await upstream?.kill();
    contracts?.remove();
  });

  test('unary: reply, response headers and trailers come back; the upstream sees the identity and a deadline, never the token', async () => {
    const greeter = client<Greeter>('helloworld.Greeter');
    const metadata = new grpc.Metadata();
    metadata.set('x-custom', 'c1');
    metadata.set('x-gatehouse-identity', 'spiffe://forged/admin');
    metadata.set('x-gatehouse-subject', 'forged');
    const result = await unary<Reply>((cb) => greeter.SayHello({ name: 'Ann' }, metadata, { deadline: Date.now() + 5000 }, cb));
    assert.equal(result.value.message, 'Hello, Ann');
    assert.deepEqual(result.headers()?.get('x-upstream-header'), ['hello-header']);
    assert.deepEqual(result.trailers()?.get('x-upstream-trailer'), ['hello-trailer']);

    const seen = (await callsTo('/helloworld.Greeter/SayHello')).at(-1)!;
    const header = (key: string) => seen.metadata.filter(([k]) => k === key).map(([, v]) => v);
    assert.deepEqual(header('x-gatehouse-identity'), [devClientIdentity('alice')]);
    assert.deepEqual(header('x-gatehouse-subject'), [devClientIdentity('alice')]);
    assert.deepEqual(header('x-custom'), ['c1']);
    assert.deepEqual(header('authorization'), [], "the caller's token must never reach the upstream");
    assert.ok(seen.timeRemaining !== null && seen.timeRemaining > 0 && seen.timeRemaining <= 5, `upstream deadline ${seen.timeRemaining} s`);
  });

  test('an upstream error keeps its code, message, details and trailers', async () => {
    const greeter = client<Greeter>('helloworld.Greeter');
    const error = await unary<Reply>((cb) => greeter.SayHello({ name: 'fail' }, new grpc.Metadata(), {}, cb)).then(
      () => assert.fail('expected NOT_FOUND'),
      (e: grpc.ServiceError) => e,
    );
    assert.equal(error.code, grpc.status.NOT_FOUND);
    assert.equal(error.details, 'nobody called fail here');
    assert.deepEqual(error.metadata.get('x-upstream-trailer'), ['failed']);
    const details = codec.decode(error.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer);
    assert.equal(details?.errorInfo?.reason, 'NO_SUCH_PERSON');
    assert.equal(details?.errorInfo?.domain, 'cheesefarm.example');
  });

  test("the tutorial's CheeseService (EMMENTAL = 0), described by a descriptor set", async () => {
    const cheese = client<
      grpc.Client & { Order: (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: Callback<unknown>) => grpc.ClientUnaryCall }
    >('cheesefarm.CheeseService');
    const ordered = await unary((cb) => cheese.Order({ type: 'EMMENTAL', age: 12 }, new grpc.Metadata(), {}, cb));
    assert.deepEqual(ordered.value, { age: 12, type: 'EMMENTAL' });
    const error = await unary((cb) => cheese.Order({ type: 'ROQUEFORT', age: 1 }, new grpc.Metadata(), {}, cb)).then(
      () => assert.fail('expected FAILED_PRECONDITION'),
      (e: grpc.ServiceError) => e,
    );
    assert.equal(error.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(codec.decode(error.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer)?.errorInfo?.reason, 'OUT_OF_CHEESE');
  });

  test('server streaming, bidi and client streaming, with trailers', async () => {
    const greeter = client<Greeter>('helloworld.Greeter');
    const stream = greeter.SayHelloStreamReply({ name: 'Bo' });
    const trailers = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    const streamed: string[] = [];
    for await (const reply of stream) streamed.push((reply as Reply).message);
    assert.deepEqual(streamed, ['Hello, Bo #0', 'Hello, Bo #1', 'Hello, Bo #2']);
    assert.deepEqual((await trailers).metadata.get('x-upstream-trailer'), ['stream-trailer']);

    const bidi = greeter.SayHelloBidiStream();
    const bidiStatus = new Promise<grpc.StatusObject>((resolve) => bidi.on('status', resolve));
    const echoed: string[] = [];
    bidi.on('data', (reply: Reply) => {
      echoed.push(reply.message);
      if (echoed.length === 1) bidi.write({ name: 'two' });
      if (echoed.length === 2) bidi.end();
    });
    bidi.write({ name: 'one' });
    const bidiEnd = await bidiStatus;
    assert.deepEqual(echoed, ['Hello, one', 'Hello, two']);
    assert.deepEqual(bidiEnd.metadata.get('x-upstream-trailer'), ['bidi-trailer']);

    const collected = await unary<Reply>((cb) => {
      const call = greeter.SayHelloClientStream(new grpc.Metadata(), {}, cb);
      call.write({ name: 'Cy' });
      call.write({ name: 'Di' });
      call.end();
      return call;
    });
    assert.equal(collected.value.message, 'Hello, Cy and Di');
    assert.deepEqual(collected.trailers()?.get('x-upstream-trailer'), ['client-stream-trailer']);
  });

  test('a call without a token, or outside the policy, never reaches the upstream', async () => {
    const before = (await upstream.calls()).length;
    // alice's certificate but no token.
    const aliceFiles = { caFile: gw.certs.caCert, certFile: gw.certs.clients.alice.cert, keyFile: gw.certs.clients.alice.key };
    const tokenless = new (contracts.clientFor('helloworld.Greeter'))(gw.target, channelCredentials(aliceFiles), TLS_NAME) as unknown as Greeter;
    clients.push(tokenless);
    await assertRejects(
      unary((cb) => tokenless.SayHello({ name: 'x' }, new grpc.Metadata(), {}, cb)),
      'UNAUTHENTICATED',
    );
    // bob is not among Search's identities; a bare service name (no package) is in the policy like any other.
    const search = client<
      grpc.Client & { Query: (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: Callback<unknown>) => grpc.ClientUnaryCall }
    >('Search', 'bob');
    await assertRejects(
      unary((cb) => search.Query({ query: 'q' }, new grpc.Metadata(), {}, cb)),
      'PERMISSION_DENIED',
      /not allowed to call \/Search\/Query/,
    );
    assert.equal((await upstream.calls()).length, before, 'refused calls must not reach the upstream');
    const allowed = client<
      grpc.Client & { Query: (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: Callback<unknown>) => grpc.ClientUnaryCall }
    >('Search', 'alice');
    assert.deepEqual((await unary((cb) => allowed.Query({ query: 'q' }, new grpc.Metadata(), {}, cb))).value, { results: ['q 1', 'q 2'] });
  });

  test('a client cancel reaches the upstream within 100 ms', async () => {
    const greeter = client<Greeter>('helloworld.Greeter');
    const stream = greeter.SayHelloStreamReply({ name: 'wait' });
    stream.on('error', () => undefined);
    await new Promise((resolve) => stream.once('data', resolve));
    const cancelledAt = Date.now();
    stream.cancel();
    let seen: number | undefined;
    for (let i = 0; i < 100 && seen === undefined; i++) {
      await sleep(20);
      seen = (await callsTo('/helloworld.Greeter/SayHelloStreamReply')).find((c) => c.name === 'wait')?.cancelledAt;
    }
    assert.ok(seen !== undefined, 'the upstream never saw the cancel');
    assert.ok(seen * 1000 - cancelledAt <= 100, `the upstream saw the cancel ${Math.round(seen * 1000 - cancelledAt)} ms later`);
  });

  test('reflection through the gateway lists and describes the routed services', async () => {
    const listed = await reflectionRequest(gw.target, gw.credentials('alice'), { list_services: '' });
    const names = listed.list_services_response!.service.map((s) => s.name);
    for (const name of ['helloworld.Greeter', 'cheesefarm.CheeseService', 'Search', 'cheesefarm.v1.CheeseService'])
      assert.ok(names.includes(name), `${name} not listed`);
    const described = await reflectionRequest(gw.target, gw.credentials('alice'), { file_containing_symbol: 'helloworld.Greeter' });
    const files = described.file_descriptor_response!.file_descriptor_proto;
    assert.ok(files.length >= 1);
    assert.ok(files[0]!.includes(Buffer.from('helloworld.proto')), 'the file declaring helloworld.Greeter was not served');
  });

  test('routed calls show in grpc_server_* and per-upstream series, and the access log names the upstream', async () => {
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(
      text,
      /grpc_server_handled_total\{[^}]*grpc_service="helloworld.Greeter"[^}]*grpc_method="SayHello"[^}]*grpc_code="OK"[^}]*\} [1-9]/,
    );
    assert.match(text, /gatehouse_upstream_calls_total\{upstream="py",grpc_code="OK"\} [1-9]/);
    assert.match(text, /gatehouse_upstream_healthy_endpoints\{upstream="py"\} 1/);
    assert.match(text, /gatehouse_upstream_latency_seconds_count\{upstream="py"\} [1-9]/);
    const line = gw.logs.find((l) => l.method === '/helloworld.Greeter/SayHello');
    assert.equal(line?.upstream, 'py');
  });

  test('health follows the upstream; with no healthy endpoint calls fail fast with UNAVAILABLE naming the upstream, not its address', async () => {
    await upstream.setHealth('NOT_SERVING');
    try {
      assert.equal(await waitForHealth(gw.target, gw.credentials('alice'), 'NOT_SERVING', 5000, 'helloworld.Greeter'), 'NOT_SERVING');
      // The gateway itself stays ready: its own services still serve.
      assert.equal(await waitForHealth(gw.target, gw.credentials('alice'), 'SERVING', 1000, ''), 'SERVING');
      const greeter = client<Greeter>('helloworld.Greeter');
      const startedAt = Date.now();
      const { error, details } = await assertRejects(
        unary((cb) => greeter.SayHello({ name: 'x' }, new grpc.Metadata(), {}, cb)),
        'UNAVAILABLE',
        /upstream py has no healthy endpoint/,
      );
      assert.ok(Date.now() - startedAt < 1000, 'must fail fast');
      assert.equal(details?.errorInfo?.reason, 'UPSTREAM_UNAVAILABLE');
      assert.doesNotMatch(error.details, /127\.0\.0\.1|:\d{4,5}/);
    } finally {
      await upstream.setHealth('SERVING');
    }
    assert.equal(await waitForHealth(gw.target, gw.credentials('alice'), 'SERVING', 5000, 'helloworld.Greeter'), 'SERVING');
  });

  test('a reflection refresh logs when the upstream describes other methods than those routed since start', async () => {
    const config = loadConfig({
      overrides: {
        upstreams: { py: { targets: [upstream.target], discovery: { refreshIntervalMs: 100 } } },
        routes: [{ service: 'helloworld.Greeter', upstream: 'py' }],
      },
    });
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    // As if the gateway had started when the upstream had only SayHello.
    const routed = {
      services: [
        {
          service: { name: 'helloworld.Greeter', methods: [{ name: 'SayHello', clientStreaming: false, serverStreaming: false }] },
          route: config.routes[0]!,
        },
      ],
      files: [],
    };
    const refresh = startDiscoveryRefresh(config, routed, logger);
    try {
      for (let i = 0; i < 100 && !lines.some((l) => l.msg === 'upstream API changed since start; restart the gateway to route it as it is now'); i++)
        await sleep(20);
    } finally {
      refresh.stop();
    }
    const changed = lines.find((l) => l.upstream === 'py' && String(l.msg).startsWith('upstream API changed'));
    assert.ok(changed, 'the change was not logged');
    assert.equal(changed.routed, 'helloworld.Greeter(SayHello)');
    assert.match(String(changed.now), /helloworld\.Greeter\(SayHello,SayHelloBidiStream<>,SayHelloClientStream<,SayHelloStreamReply>\)/);
  });
});
