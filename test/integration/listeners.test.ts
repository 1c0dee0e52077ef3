import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callUnary, createClient } from '../../src/client/grpc-client.js';
import { assertRejects } from '../helpers/assert-status.js';
import { checkHealth } from '../helpers/health-client.js';
import { listServicesByReflection } from '../helpers/reflection.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';

describe('main listener (mTLS), health-only listener, admin listener', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
  });

  it('serves a client with a certificate from the configured CA', async () => {
    const reply = await callUnary<{ orderId: string; orderedBy: string }>(gw.client(CHEESE, 'alice'), 'order', {
      type: 'BRIE',
      age: 6,
      idempotencyKey: 'listeners-1',
    });
    assert.match(reply.orderId, /^ord_[0-9a-f]{20}$/);
    assert.equal(reply.orderedBy, gw.certs.clients.alice.identity, 'the order records the verified certificate identity');
  });

  for (const identity of ['no-certificate', 'untrusted', 'expired'] as const) {
    it(`refuses a client with ${identity === 'no-certificate' ? 'no certificate' : `an ${identity} certificate`}`, async () => {
      await assertRejects(callUnary(gw.client(CHEESE, identity), 'getOrder', { orderId: 'x' }, { deadline: 5000 }), 'UNAVAILABLE');
    });
  }

  it('refuses plaintext on the main listener', async () => {
    await assertRejects(callUnary(gw.client(CHEESE, 'insecure'), 'getOrder', { orderId: 'x' }, { deadline: 5000 }), 'UNAVAILABLE');
  });

  it('lists every hosted service through reflection, as grpcurl list does, and none that config turned off', async () => {
    // This gateway runs with speech synthesis and recognition off (test/helpers/start-gateway.ts).
    assert.deepEqual(await listServicesByReflection(gw.target, gw.credentials('alice')), [
      CHEESE,
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
    ]);
  });

  it('answers health on both listeners with the same state', async () => {
    assert.equal(await checkHealth(gw.target, gw.credentials('alice'), ''), 'SERVING');
    assert.equal(await checkHealth(gw.healthTarget, gw.credentials('insecure'), ''), 'SERVING');
    assert.equal(await checkHealth(gw.healthTarget, gw.credentials('insecure'), CHEESE), 'SERVING');
    await assertRejects(
      checkHealth(gw.healthTarget, gw.credentials('insecure'), 'no.such.Service'),
      'NOT_FOUND',
      /^the health service knows no service named "no\.such\.Service"/,
    );
    await assertRejects(
      checkHealth(gw.target, gw.credentials('alice'), 'no.such.Service'),
      'NOT_FOUND',
      /^the health service knows no service named "no\.such\.Service"/,
    );
  });

  it('refuses every non-health method on the health-only listener', async () => {
    const client = createClient(CHEESE, gw.healthTarget, gw.credentials('insecure'));
    try {
      await assertRejects(
        callUnary(client, 'order', { type: 'BRIE', age: 6, idempotencyKey: 'k' }),
        'UNIMPLEMENTED',
        /^this server has no method "\/cheesefarm\.v1\.CheeseService\/Order"/,
      );
      await assertRejects(
        listServicesByReflection(gw.healthTarget, gw.credentials('insecure')),
        'UNIMPLEMENTED',
        /^this server has no method "\/grpc\.reflection\.v1\.ServerReflection\/ServerReflectionInfo"/,
      );
    } finally {
      client.close();
    }
  });

  it('reports liveness and readiness over HTTP', async () => {
    assert.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200);
    const ready = await fetch(`${gw.adminUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { services: Record<string, string> }).services[CHEESE], 'SERVING');
  });
});

describe('TLS-only and insecure modes', () => {
  // Without client certificates there is no identity to allow: these modes need a policy that asks for none (config/policy.yaml asks for one).
  const OPEN_CHEESE_POLICY = { 'policy.defaults': {}, 'policy.services': { [CHEESE]: { requireToken: false } } };
  it('TLS-only serves a client without a certificate', async () => {
    const gw = await startGateway({ overrides: { 'server.tls.mode': 'tls', ...OPEN_CHEESE_POLICY } });
    try {
      const reply = await callUnary<{ orderedBy: string }>(gw.client(CHEESE, 'no-certificate'), 'order', {
        type: 'EMMENTAL',
        age: 3,
        idempotencyKey: 'tls-1',
      });
      assert.equal(reply.orderedBy, 'anonymous');
    } finally {
      await gw.close();
    }
  });

  it('insecure mode serves plaintext', async () => {
    const gw = await startGateway({ overrides: { 'server.tls.mode': 'insecure', ...OPEN_CHEESE_POLICY } });
    try {
      const reply = await callUnary<{ type: string }>(gw.client(CHEESE, 'insecure'), 'order', {
        type: 'CANASTRA',
        age: 3,
        idempotencyKey: 'plain-1',
      });
      assert.equal(reply.type, 'CANASTRA');
    } finally {
      await gw.close();
    }
  });
});
