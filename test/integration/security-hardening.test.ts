import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callUnary, channelCredentials, createClient } from '../../src/client/grpc-client.js';
import { assertRejects } from '../helpers/assert-status.js';
import { curlGrpcCall } from '../helpers/curl-grpc.js';
import { devTokenFor, withBearerToken } from '../helpers/dev-token.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';

/** Issue 12: what outside attack batteries found, each refused from outside over real mTLS. */
describe('security hardening (issue 12)', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw?.close();
  });

  it('grpc-js\'s own log lines go through the redacting logger: no token of a repeated authorization header is logged (item 1)', async () => {
    const valid = devTokenFor(gw.certs, 'alice');
    const other = 'opaque-second-token-0123456789';
    const linesBefore = gw.logs.length;
    await curlGrpcCall(gw, `/${CHEESE}/ListOrders`, [`authorization: Bearer ${valid}`, `authorization: Bearer\t${other}`], Buffer.alloc(5));
    const lines = gw.logs.slice(linesBefore);
    const text = JSON.stringify(lines);
    assert.ok(!text.includes(valid.split('.')[1]!), 'the valid token reached the log');
    assert.ok(!text.includes(other), 'the second (opaque) token reached the log');
    // grpc-js really did log about the value it could not store, and that line came through our logger.
    const grpcJs = lines.filter((line) => line.component === 'grpc-js');
    assert.ok(grpcJs.some((line) => /Failed to add metadata entry authorization: \[REDACTED\]/.test(String(line.msg))), `grpc-js lines: ${JSON.stringify(grpcJs)}`);
  });

  it('a CA certificate signed by the trusted CA does not authenticate as a client, even naming a known identity (item 6)', async () => {
    const dir = gw.certs.dir;
    const key = join(dir, 'rogue-ca.key');
    const cert = join(dir, 'rogue-ca.crt');
    const ext = join(dir, 'rogue-ca.ext');
    // An intermediate that also claims alice's SPIFFE ID, and every usage OpenSSL checks for a TLS client.
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/O=Gatehouse/CN=rogue-intermediate', '-out', `${cert}.csr`]);
    writeFileSync(ext, [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,digitalSignature,keyCertSign,cRLSign',
      'extendedKeyUsage=clientAuth',
      `subjectAltName=URI:${gw.certs.clients.alice.identity}`,
    ].join('\n'));
    execFileSync('openssl', ['x509', '-req', '-in', `${cert}.csr`, '-CA', gw.certs.caCert, '-CAkey', gw.certs.caKey, '-CAcreateserial',
      '-days', '30', '-sha256', '-extfile', ext, '-out', cert], { stdio: ['ignore', 'ignore', 'pipe'] });
    rmSync(`${cert}.csr`);
    const credentials = withBearerToken(channelCredentials({ caFile: gw.certs.caCert, certFile: cert, keyFile: key }), devTokenFor(gw.certs, 'alice'));
    const client = createClient(CHEESE, gw.target, credentials, { 'grpc.ssl_target_name_override': 'localhost' });
    try {
      const { details } = await assertRejects(callUnary(client, 'listOrders', { pageSize: 1 }, { deadline: 5000 }), 'UNAUTHENTICATED',
        /client certificate is a CA certificate \(basicConstraints CA:TRUE\)/);
      assert.equal(details?.errorInfo?.reason, 'CLIENT_CERTIFICATE_REQUIRED');
      // alice's own certificate with the same token passes: the refusal is about the CA flag.
      await callUnary(gw.client(CHEESE, 'alice'), 'listOrders', { pageSize: 1 }, { deadline: 5000 });
    } finally {
      client.close();
    }
  });
});
