import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pythonEndpointPair, TLS_NAME, type Unary } from '../helpers/python-endpoint-pair.js';

/** One call of the load: when it ran and how it ended. */
interface Outcome {
  method: string;
  startedAt: number;
  endedAt: number;
  code: number;
}

describe('two upstream endpoints, one killed under load', () => {
  // SayHello is idempotent (retried); Search/Query is not.
  const pair = pythonEndpointPair({
    upstream: { healthCheck: { intervalMs: 200 }, ejection: { consecutiveFailures: 2, durationMs: 5000 } },
    route: { retry: { idempotentMethods: ['SayHello'], maxAttempts: 3 } },
    alsoRoute: ['Search'],
  });

  test('traffic moves to the live endpoint; only calls in flight on the dead one fail, and idempotent ones are retried', async () => {
    const { contracts, gw, first, second } = pair;
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), TLS_NAME) as unknown as Record<string, Unary>;
    const search = new (contracts.clientFor('Search'))(gw.target, gw.credentials('alice'), TLS_NAME) as unknown as Record<string, Unary>;
    const outcomes: Outcome[] = [];
    const call = (method: string, run: (cb: (error: grpc.ServiceError | null) => void) => void) =>
      new Promise<void>((resolve) => {
        const startedAt = Date.now();
        run((error) => {
          outcomes.push({ method, startedAt, endedAt: Date.now(), code: error?.code ?? 0 });
          resolve();
        });
      });
    const loadUntil = Date.now() + 2000;
    const worker = async (i: number) => {
      while (Date.now() < loadUntil) {
        if (i % 2 === 0)
          await call('SayHello', (cb) => greeter.SayHello!({ name: 'slow:40' }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, cb));
        else await call('Query', (cb) => search.Query!({ query: 'slow:40' }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, cb));
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, i) => worker(i)));
    await sleep(700);
    const killedAt = Date.now();
    await first.kill();
    await load;
    (greeter as unknown as grpc.Client).close();
    (search as unknown as grpc.Client).close();

    const failed = outcomes.filter((o) => o.code !== 0);
    assert.ok(outcomes.length > 50, `only ${outcomes.length} calls ran`);
    assert.deepEqual(
      failed.filter((o) => o.method === 'SayHello'),
      [],
      'idempotent calls must be retried on the live endpoint',
    );
    // Only Query calls in flight when the endpoint died may fail: sent before the gateway could have heard of the
    // death (a loaded machine takes a moment to hand the gateway the closed connection), at most two per Query worker.
    for (const o of failed) {
      assert.equal(o.code, grpc.status.UNAVAILABLE);
      assert.ok(o.startedAt <= killedAt + 250, `a call started ${o.startedAt - killedAt} ms after the kill failed`);
    }
    assert.ok(failed.length <= 8, `${failed.length} calls failed`);
    const afterKill = outcomes.filter((o) => o.startedAt > killedAt + 300);
    assert.ok(afterKill.length > 10 && afterKill.every((o) => o.code === 0), 'calls after the kill must all succeed');
    const seenBySecond = (await second.calls()).filter((c) => c.at * 1000 > killedAt + 300);
    assert.ok(seenBySecond.length >= afterKill.length, 'the live endpoint must take the traffic');

    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /gatehouse_upstream_healthy_endpoints\{upstream="pair"\} 1/);
    assert.match(metrics, /gatehouse_upstream_failures_total\{upstream="pair"\} [1-9]/);
    const retried = /gatehouse_upstream_retries_total\{upstream="pair"\} (\d+)/.exec(metrics);
    const sayHellos = outcomes.filter((o) => o.method === 'SayHello').length;
    // Retries stay within the budget: at most 20% extra.
    const retries = Number(retried?.[1] ?? 0);
    assert.ok(retries <= Math.ceil(sayHellos * 0.2), `${retries} retries for ${sayHellos} calls`);
    // Calls were in flight on the endpoint that died: each was either retried (SayHello) or failed (Query).
    assert.ok(retries + failed.length >= 1, 'no call was in flight on the killed endpoint');
  });
});

describe('an endpoint that passes health checks but fails every call', () => {
  const pair = pythonEndpointPair({ firstBroken: true, upstream: { ejection: { consecutiveFailures: 2, durationMs: 60_000 } } });

  test('is ejected after its consecutive failures; its UNAVAILABLE reaches the caller as the upstream sent it until then', async () => {
    const { contracts, gw, first: broken } = pair;
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), TLS_NAME) as unknown as Record<string, Unary>;
    const codes: number[] = [];
    const details: string[] = [];
    for (let i = 0; i < 12; i++) {
      await new Promise<void>((resolve) =>
        greeter.SayHello!({ name: `n${i}` }, new grpc.Metadata(), {}, (error) => {
          codes.push(error?.code ?? 0);
          if (error) details.push(error.details);
          resolve();
        }),
      );
    }
    (greeter as unknown as grpc.Client).close();
    // Round robin: broken, healthy, broken (second failure in a row: ejected), then healthy only.
    assert.deepEqual(codes, [14, 0, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(details, ['this endpoint is broken', 'this endpoint is broken']);
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /gatehouse_upstream_ejections_total\{upstream="pair"\} 1\b/);
    assert.match(metrics, /gatehouse_upstream_healthy_endpoints\{upstream="pair"\} 1\b/);
    assert.equal((await broken.calls()).filter((c) => c.method === '/helloworld.Greeter/SayHello').length, 2);
  });
});

describe('a request stream retried on another endpoint', () => {
  // Every retry is allowed here (the budget is what the retry tests above cover); 64 bytes kept per call.
  const pair = pythonEndpointPair({
    firstBroken: true,
    upstream: { ejection: { consecutiveFailures: 100 } },
    route: { retry: { idempotentMethods: ['SayHelloClientStream'], maxAttempts: 2, budgetRatio: 1, maxReplayBytes: 64 } },
  });

  type ClientStream = (
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply?: { message: string }) => void,
  ) => grpc.ClientWritableStream<{ name: string }>;
  const send = (greeter: Record<string, ClientStream>, names: string[]) =>
    new Promise<{ code: number; message: string }>((resolve) => {
      const call = greeter.SayHelloClientStream!(new grpc.Metadata(), {}, (error, reply) =>
        resolve({ code: error?.code ?? 0, message: error?.details ?? reply?.message ?? '' }),
      );
      for (const name of names) call.write({ name });
      call.end();
    });

  test('is replayed whole from what the gateway kept, and not retried once it outgrew maxReplayBytes', async () => {
    const { contracts, gw, first: broken } = pair;
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), TLS_NAME) as unknown as Record<
      string,
      ClientStream
    >;
    // Round robin puts every call after the first on the broken endpoint first.
    const small = [];
    for (let i = 0; i < 4; i++) small.push(await send(greeter, [`a${i}`, `b${i}`, `c${i}`]));
    assert.deepEqual(
      small.map((r) => r.code),
      [0, 0, 0, 0],
    );
    assert.deepEqual(
      small.map((r) => r.message),
      [0, 1, 2, 3].map((i) => `Hello, a${i} and b${i} and c${i}`),
    );
    const brokenSaw = (await broken.calls()).filter((c) => c.method === '/helloworld.Greeter/SayHelloClientStream');
    assert.ok(brokenSaw.length >= 3, `the broken endpoint saw ${brokenSaw.length} of the streams first`);
    for (const call of brokenSaw) assert.equal(call.received, 3, 'the broken endpoint read the whole stream before failing');

    // Two 40-byte messages: more than the 64 bytes kept, so a call failing on the broken endpoint is not retried.
    const large = [];
    for (let i = 0; i < 2; i++) large.push(await send(greeter, ['x'.repeat(40), 'y'.repeat(40)]));
    (greeter as unknown as grpc.Client).close();
    assert.ok(
      large.some((r) => r.code === grpc.status.UNAVAILABLE && r.message === 'this endpoint is broken'),
      `a stream over maxReplayBytes must fail as the upstream failed it: ${JSON.stringify(large)}`,
    );
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /gatehouse_upstream_retries_total\{upstream="pair"\} [3-9]\b/);
  });
});

describe('a rolling restart: one of two Python endpoints stopped with server.stop(grace) under load', () => {
  // No retries configured and health left SERVING by grpcio's stop: only GOAWAY tells the gateway.
  const pair = pythonEndpointPair({ upstream: { healthCheck: { intervalMs: 200 } } });

  test('the gateway loses no call: calls in flight finish, later ones go to the other endpoint', async () => {
    const { contracts, gw, first: stopping } = pair;
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), TLS_NAME) as unknown as Record<string, Unary>;
    const codes: number[] = [];
    let stopAt = 0;
    const worker = async (id: number) => {
      for (let i = 0; stopAt === 0 || Date.now() < stopAt + 800; i++) {
        // Some calls take 30 ms, so calls are in flight on the stopping endpoint when its GOAWAY comes.
        const name = i % 2 === 0 ? 'slow:30' : `w${id}`;
        codes.push(
          await new Promise<number>((resolve) =>
            greeter.SayHello!({ name }, new grpc.Metadata(), {}, (error) => {
              if (error) errors.push(`${grpc.status[error.code]}: ${error.details}`);
              resolve(error?.code ?? 0);
            }),
          ),
        );
      }
    };
    const errors: string[] = [];
    const load = Promise.all(Array.from({ length: 8 }, (_, id) => worker(id)));
    await sleep(400);
    stopAt = Date.now();
    const exited = new Promise<number | null>((resolve) => stopping.child.once('exit', resolve));
    stopping.child.kill('SIGTERM');
    assert.equal(await exited, 0, 'grpcio stops gracefully');
    await load;
    (greeter as unknown as grpc.Client).close();
    assert.ok(codes.length > 100, `only ${codes.length} calls ran`);
    // grpcio itself cancels the few calls that reach it between its stop and its final GOAWAY: it sends them
    // CANCELLED ("CANCELLED"), as it would to any client. The gateway must lose none of its own: no UNAVAILABLE,
    // no call of its making.
    const lostByGateway = errors.filter((error) => error !== 'CANCELLED: CANCELLED');
    assert.deepEqual(lostByGateway, [], `${lostByGateway.length} of ${codes.length} calls failed in the gateway`);
    assert.ok(errors.length <= 8, `${errors.length} calls cancelled by grpcio's shutdown`);
  });
});
