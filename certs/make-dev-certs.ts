/** `npm run certs [dir]`: makes the development certificate set (default certs/dev) if it is missing. */
import { fileURLToPath } from 'node:url';
import { ensureDevCertificates } from './dev-certificates.js';

const dir = process.argv[2] ?? fileURLToPath(new URL('./dev/', import.meta.url));
const set = ensureDevCertificates(dir);
console.log(`development certificates in ${set.dir}:`);
console.log(`  CA ${set.caCert}\n  server ${set.serverCert}\n  clients ${set.clients.alice.cert}, ${set.clients.bob.cert}`);
