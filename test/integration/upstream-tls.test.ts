import type * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { devClientIdentity, makeTemporaryDevCertificates, type DevCertificateSet } from '../../certs/dev-certificates.js';
import { waitForHealth } from '../helpers/health-client.js';
import { generateUpstreamContracts, startPythonUpstream, type PythonUpstream, type UpstreamContracts } from '../helpers/python-upstream.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

describe('an upstream that requires mTLS', () => {
  let contracts: UpstreamContracts;
  let upstreamCerts: DevCertificateSet;
  let upstream: PythonUpstream;
  let gw: TestGateway;

  before(async () => {
    contracts = generateUpstreamContracts();
    // The upstream's own CA, not the gateway's: the gateway presents bob's certificate of that CA to it.
    upstreamCerts = makeTemporaryDevCertificates();
    upstream = await startPythonUpstream(contracts, {
      mtls: {
        cert: upstreamCerts.serverCert,
        key: upstreamCerts.serverKey,
        ca: upstreamCerts.caCert,
        controlCert: upstreamCerts.clients.alice.cert,
        controlKey: upstreamCerts.clients.alice.key,
      },
    });
    gw = await startGateway({
      overrides: {
        upstreams: {
          secure: {
            targets: [upstream.target],
            tls: {
              mode: 'mtls',
              caFile: upstreamCerts.caCert,
              certFile: upstreamCerts.clients.bob.cert,
              keyFile: upstreamCerts.clients.bob.key,
              serverName: 'localhost',
            },
          },
        },
        routes: [{ service: 'helloworld.Greeter', upstream: 'secure' }],
        'policy.services': { 'helloworld.Greeter': {} },
      },
    });
    await waitForHealth(gw.target, gw.credentials('alice'), 'SERVING', 10_000, 'helloworld.Greeter');
  });

  after(async () => {
    await gw?.close();
    await upstream?.kill();
    contracts?.remove();
    if (upstreamCerts) rmSync(upstreamCerts.dir, { recursive: true, force: true });
  });

  test("discovery, health checks and calls go over mTLS with the gateway's own certificate", async () => {
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), {
      'grpc.ssl_target_name_override': 'localhost',
    }) as unknown as grpc.Client & {
      SayHello(r: { name: string }, cb: (e: grpc.ServiceError | null, v?: { message: string }) => void): void;
    };
    const reply = await new Promise<{ message: string }>((resolve, reject) =>
      greeter.SayHello({ name: 'tls' }, (e, v) => (e ? reject(e) : resolve(v!))),
    );
    greeter.close();
    assert.equal(reply.message, 'Hello, tls');
    const seen = (await upstream.calls()).find((c) => c.name === 'tls')!;
    // The upstream's TLS peer is the gateway (bob's certificate); the caller travels in the trusted header.
    assert.deepEqual(seen.peerIdentity, [devClientIdentity('bob')]);
    assert.deepEqual(
      seen.metadata.filter(([k]) => k === 'x-gatehouse-identity').map(([, v]) => v),
      [devClientIdentity('alice')],
    );
  });
});
