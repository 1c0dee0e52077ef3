import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTemporaryDevCertificates, type DevCertificateSet } from '../../certs/dev-certificates.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging/logger.js';
import { createGateway } from '../../src/server.js';
import { devSigningKeyFile } from '../helpers/dev-token.js';

const CHEESE = 'cheesefarm.v1.CheeseService';

/**
 * One-off file-system requests in flight are not resources anything holds, and tsx (the test runner's loader)
 * makes them in the background for a while after the first compile (expiring its disk cache, seen on Node 24).
 */
const TRANSIENT = new Set(['FSReqCallback', 'FSReqPromise']);

/** Counts of each kind of resource keeping the event loop alive (timers, sockets, servers, ...). */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) if (!TRANSIENT.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Kinds of which `now` holds more than `baseline`: what something started and did not stop. */
function leftOver(baseline: Map<string, number>, now: Map<string, number>): string[] {
  return [...now]
    .filter(([kind, count]) => count > (baseline.get(kind) ?? 0))
    .map(([kind, count]) => `${kind} x${count - (baseline.get(kind) ?? 0)}`);
}

describe('component lifecycle', () => {
  let certs: DevCertificateSet;
  let dataDir: string;
  let jwks: Server;
  let jwksFetches = 0;
  let releaseJwks: () => void = () => undefined;
  let jwksGate = new Promise<void>((resolve) => {
    releaseJwks = resolve;
  });
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  before(async () => {
    certs = makeTemporaryDevCertificates();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-lifecycle-'));
    jwks = createServer((_request, response) => {
      jwksFetches++;
      // The first answer waits for the test: readiness must wait for it. No keep-alive: the test's own server
      // sockets would otherwise count as left over.
      void jwksGate.then(() =>
        response
          .writeHead(200, { 'content-type': 'application/json', connection: 'close' })
          .end(JSON.stringify({ keys: [{ ...key.publicKey.export({ format: 'jwk' }), kid: 'lifecycle-1', alg: 'ES256', use: 'sig' }] })),
      );
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    releaseJwks();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it('building starts nothing; readiness waits for the first JWKS fetch; shutdown leaves nothing behind', async () => {
    const config = loadConfig({
      overrides: {
        'server.host': '127.0.0.1',
        'server.port': 0,
        'server.tls.certFile': certs.serverCert,
        'server.tls.keyFile': certs.serverKey,
        'server.tls.clientCaFile': certs.caCert,
        'server.tls.generateDevCertificates': false,
        'server.tls.reloadIntervalMs': 100,
        'server.shutdownGraceMs': 1000,
        'health.host': '127.0.0.1',
        'health.port': 0,
        'admin.host': '127.0.0.1',
        'admin.port': 0,
        'storage.sqlitePath': join(dataDir, 'gatehouse.db'),
        'auth.devSigningKey.file': devSigningKeyFile(certs),
        'auth.jwksUrls': [{ url: `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`, refreshIntervalSec: 1 }],
        'tts.enabled': false,
        'stt.enabled': false,
        // Default deadlines, so the deadline step's timers exist while calls run.
      },
    });
    const logger = createLogger({ level: 'silent' });
    const baseline = activeResources();

    const gateway = createGateway({ config, logger });
    await sleep(50);
    assert.deepEqual(leftOver(baseline, activeResources()), [], 'building the gateway started something');
    assert.equal(jwksFetches, 0, 'building the gateway fetched the JWKS');

    await gateway.listen();
    await sleep(300);
    assert.equal(jwksFetches, 1, 'listen() did not start the JWKS fetch');
    assert.equal(gateway.health.get(CHEESE), 'NOT_SERVING', 'CheeseService turned SERVING before its token keys were loaded');
    assert.equal(gateway.health.isReady(), false);
    releaseJwks();
    await gateway.warmedUp();
    assert.equal(gateway.health.get(CHEESE), 'SERVING');

    await gateway.shutdown();
    const fetchesAtShutdown = jwksFetches;
    await sleep(1500); // longer than the JWKS refresh interval and the certificate reload interval
    assert.equal(jwksFetches, fetchesAtShutdown, 'the JWKS refresh timer kept running after shutdown');
    assert.deepEqual(leftOver(baseline, activeResources()), [], 'shutdown left resources of the gateway behind');
    jwksGate = Promise.resolve();
  });
});
