import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { makeTemporaryDevCertificates } from '../certs/dev-certificates.ts';
const c = makeTemporaryDevCertificates();
const server = tls.createServer({ cert: readFileSync(c.serverCert), key: readFileSync(c.serverKey), ca: readFileSync(c.caCert), requestCert: true, rejectUnauthorized: true }, (s) => {
  let t = performance.now(); let x;
  for (let i = 0; i < 10000; i++) x = s.getPeerCertificate();
  console.log('getPeerCertificate us/op', ((performance.now() - t) * 1000 / 10000).toFixed(2), x.fingerprint256.length);
  t = performance.now();
  for (let i = 0; i < 10000; i++) x = s.authorized;
  s.destroy(); server.close();
});
server.listen(0, () => {
  const s = tls.connect({ port: (server.address() as any).port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(c.caCert), cert: readFileSync(c.clients.alice.cert), key: readFileSync(c.clients.alice.key) }, () => {});
  s.on('error', () => {});
});
