import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pythonEndpointPair, TLS_NAME, type Unary } from '../helpers/python-endpoint-pair.js';

/**
 * An endpoint that stops answering without closing its connection: the Python upstream frozen with SIGSTOP
 * (its kernel still holds the socket open and even accepts new connections). Only the keepalive PINGs tell
 * the gateway; without them each call sent there waits for its deadline.
 */
describe('an upstream endpoint frozen with SIGSTOP', () => {
  const pair = pythonEndpointPair({
    upstream: { keepalive: { intervalMs: 100, timeoutMs: 300 }, healthCheck: { intervalMs: 200, timeoutMs: 300 } },
    route: { retry: { idempotentMethods: ['SayHello'], maxAttempts: 3, budgetRatio: 1 } },
  });

  test('is found by the late PING ack: calls sent there are retried on the live endpoint long before their deadline', async () => {
    const { contracts, gw, first: frozen } = pair;
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), TLS_NAME) as unknown as Record<string, Unary>;
    frozen.child.kill('SIGSTOP');
    const outcomes: { code: number; ms: number }[] = [];
    for (let i = 0; i < 10; i++) {
      const startedAt = Date.now();
      const code = await new Promise<number>((resolve) =>
        greeter.SayHello!({ name: `n${i}` }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (error) => resolve(error?.code ?? 0)),
      );
      outcomes.push({ code, ms: Date.now() - startedAt });
    }
    (greeter as unknown as grpc.Client).close();
    assert.deepEqual(
      outcomes.map((o) => o.code),
      Array(10).fill(0),
      `every call ends OK: ${JSON.stringify(outcomes)}`,
    );
    // A call stuck on the frozen endpoint waits one ping timeout (300 ms, plus up to one interval), not its 5 s deadline.
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    assert.ok(slowest < 2000, `the slowest call took ${slowest} ms`);
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /gatehouse_upstream_healthy_endpoints\{upstream="pair"\} 1\b/);

    // Thawed, it is healthy again: the health watch on a new connection gets its answer.
    frozen.child.kill('SIGCONT');
    let healthy = '';
    for (let i = 0; i < 50 && !/healthy_endpoints\{upstream="pair"\} 2\b/.test(healthy); i++) {
      await sleep(100);
      healthy = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    }
    assert.match(healthy, /gatehouse_upstream_healthy_endpoints\{upstream="pair"\} 2\b/);
  });
});
