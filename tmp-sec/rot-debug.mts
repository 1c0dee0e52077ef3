import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { makeTemporaryDevCertificates } from '../certs/dev-certificates.ts';
import { createReloadingCredentials } from '../src/tls/reloading-credentials.ts';
import { createLogger } from '../src/logging/logger.ts';
import { checkHealthStatus } from '../src/client/health-check.ts';
import { channelCredentials } from '../src/client/grpc-client.ts';
import { service } from 'grpc-health-check';
process.env.GRPC_TRACE='server'; 
const certs = makeTemporaryDevCertificates();
const rc = createReloadingCredentials({ certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.caCert, registry: new Registry(), logger: createLogger({level:'debug'}) });
const server = new grpc.Server();
server.addService(service as any, { check: (c: any, cb: any) => cb(null, { status: 1 }) });
const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', rc.credentials, (e, p) => e ? rej(e) : res(p)));
try {
  console.log(await checkHealthStatus(`localhost:${port}`, channelCredentials({ caFile: certs.caCert, certFile: certs.clients.alice.cert, keyFile: certs.clients.alice.key }), '', 3000));
} catch (e) { console.log('ERR', (e as Error).message); }
server.forceShutdown(); rc.close();
