import * as grpc from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { unary } from '../../src/handler.js';
import type { HostedService } from '../../src/services/hosted-service.js';
import { checkHealth } from '../helpers/health-client.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';
const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** A tiny JSON service whose warm-up the test controls, standing in for an engine-backed one. */
function engineService(name: string, start: () => Promise<void>): HostedService {
  const json = {
    serialize: (v: unknown) => Buffer.from(JSON.stringify(v ?? {})),
    deserialize: (b: Buffer) => JSON.parse(b.toString() || '{}') as unknown,
  };
  return {
    name,
    definition: {
      Ping: {
        path: `/${name}/Ping`,
        requestStream: false,
        responseStream: false,
        requestSerialize: json.serialize,
        requestDeserialize: json.deserialize,
        responseSerialize: json.serialize,
        responseDeserialize: json.deserialize,
      },
    },
    implementation: { Ping: unary(async () => ({})) },
    start,
    stop: async () => undefined,
  };
}

/** Watches one service's health and keeps every status it reports. */
function watchHealth(target: string, credentials: grpc.ChannelCredentials, service: string) {
  const Health = grpc.makeClientConstructor(healthDefinition as grpc.ServiceDefinition, 'Health');
  const client = new Health(target, credentials);
  const stream = (client as unknown as { watch(request: object): grpc.ClientReadableStream<{ status: string | number }> }).watch({ service });
  const seen: string[] = [];
  stream.on('data', (reply) => seen.push(typeof reply.status === 'number' ? STATUS_NAMES[reply.status]! : reply.status));
  stream.on('error', () => undefined);
  return {
    seen,
    async until(status: string, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (seen.at(-1) !== status) {
        assert.ok(Date.now() < deadline, `health Watch(${service}) never reported ${status}; saw ${seen.join(', ')}`);
        await sleep(10);
      }
    },
    close() {
      stream.cancel();
      client.close();
    },
  };
}

async function readiness(
  adminUrl: string,
): Promise<{ status: number; body: { ready: boolean; draining: boolean; services: Record<string, string> } }> {
  const response = await fetch(`${adminUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as { ready: boolean; draining: boolean; services: Record<string, string> } };
}

async function servingGauge(adminUrl: string, service: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const match = new RegExp(`^gatehouse_health_serving\\{service="${service.replace(/\./g, '\\.')}"\\} (\\d+)$`, 'm').exec(text);
  assert.ok(match, `no gatehouse_health_serving series for "${service}"`);
  return Number(match[1]);
}

describe('health that tells the truth', () => {
  const ENGINE = 'gatehousetest.v1.Engine';
  const BROKEN = 'gatehousetest.v1.Broken';
  let releaseWarmUp!: () => void;
  let gw: TestGateway;
  before(async () => {
    const warmedUp = new Promise<void>((resolve) => {
      releaseWarmUp = resolve;
    });
    gw = await startGateway({
      waitForWarmUp: false,
      extraServices: [
        engineService(ENGINE, () => warmedUp),
        engineService(BROKEN, async () => {
          throw new Error('engine library not found');
        }),
      ],
    });
  });
  after(async () => {
    await gw?.close();
  });

  it('a service warming up is NOT_SERVING, Watch reports when it becomes SERVING, /readyz follows', async () => {
    const watch = watchHealth(gw.healthTarget, gw.credentials('insecure'), ENGINE);
    try {
      await watch.until('NOT_SERVING');
      assert.equal((await readiness(gw.adminUrl)).status, 503);
      assert.equal(await servingGauge(gw.adminUrl, ENGINE), 0);
      releaseWarmUp();
      await watch.until('SERVING');
      assert.deepEqual(watch.seen, ['NOT_SERVING', 'SERVING']);
      assert.equal(await checkHealth(gw.target, gw.credentials('alice'), ENGINE), 'SERVING', 'the main listener disagrees');
      assert.equal(await servingGauge(gw.adminUrl, ENGINE), 1);
    } finally {
      watch.close();
    }
  });

  it('a service whose engine failed to load is NOT_SERVING on its own; the others serve; not ready overall', async () => {
    await gw.gateway.warmedUp();
    assert.equal(await checkHealth(gw.healthTarget, gw.credentials('insecure'), BROKEN), 'NOT_SERVING');
    assert.equal(await checkHealth(gw.healthTarget, gw.credentials('insecure'), CHEESE), 'SERVING');
    assert.equal(await checkHealth(gw.healthTarget, gw.credentials('insecure'), ''), 'NOT_SERVING');
    const { status, body } = await readiness(gw.adminUrl);
    assert.equal(status, 503);
    assert.equal(body.ready, false);
    assert.equal(body.services[BROKEN], 'NOT_SERVING');
    assert.equal(body.services[CHEESE], 'SERVING');
    assert.equal(await servingGauge(gw.adminUrl, BROKEN), 0);
    assert.equal(await servingGauge(gw.adminUrl, CHEESE), 1);
    assert.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200, 'liveness must not follow readiness');
  });

  it('recovering makes it ready; draining turns every Watch NOT_SERVING and /readyz 503 for good', async () => {
    gw.gateway.health.set(BROKEN, 'SERVING');
    assert.equal((await readiness(gw.adminUrl)).status, 200);
    const watch = watchHealth(gw.healthTarget, gw.credentials('insecure'), CHEESE);
    try {
      await watch.until('SERVING');
      gw.gateway.health.beginDrain();
      await watch.until('NOT_SERVING');
      const { status, body } = await readiness(gw.adminUrl);
      assert.equal(status, 503);
      assert.equal(body.draining, true);
      gw.gateway.health.set(CHEESE, 'SERVING');
      assert.equal(await checkHealth(gw.healthTarget, gw.credentials('insecure'), CHEESE), 'NOT_SERVING', 'a drain must not be undone');
      assert.equal(await servingGauge(gw.adminUrl, ''), 0);
    } finally {
      watch.close();
    }
  });
});
