import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Paths of one development certificate set. Every `.key` file is a PEM private key. */
export interface DevCertificateSet {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** Client identities signed by the development CA. */
  clients: Record<DevClientName, { cert: string; key: string; identity: string }>;
  /** A CA nobody trusts, and a client certificate it signed. */
  untrusted: { caCert: string; clientCert: string; clientKey: string };
  /** Signed by the development CA, but expired in 2020. */
  expired: { cert: string; key: string };
}

/** The two development client identities. */
export type DevClientName = 'alice' | 'bob';

/** SPIFFE-style URI SAN of a development client. */
export const devClientIdentity = (name: DevClientName) => `spiffe://gatehouse.dev/client/${name}`;

/** Names of every file a complete set has, for "is it already made?" checks. */
function pathsFor(dir: string): DevCertificateSet {
  const client = (name: DevClientName) => ({
    cert: join(dir, `client-${name}.crt`),
    key: join(dir, `client-${name}.key`),
    identity: devClientIdentity(name),
  });
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clients: { alice: client('alice'), bob: client('bob') },
    untrusted: {
      caCert: join(dir, 'untrusted-ca.crt'),
      clientCert: join(dir, 'untrusted-client.crt'),
      clientKey: join(dir, 'untrusted-client.key'),
    },
    expired: { cert: join(dir, 'expired-client.crt'), key: join(dir, 'expired-client.key') },
  };
}

/**
 * Makes the development set in `dir` unless it is already complete: a CA, a
 * server certificate for localhost/127.0.0.1/::1, clients alice and bob, an
 * untrusted CA with a client, and an expired client. ECDSA P-256 keeps
 * handshakes cheap. Uses the openssl CLI, present on Debian and in the image.
 */
export function ensureDevCertificates(dir: string, options: { serverSans?: string[] } = {}): DevCertificateSet {
  const set = pathsFor(dir);
  if ([set.caCert, set.serverCert, set.clients.alice.cert, set.clients.bob.cert, set.expired.cert, set.untrusted.clientCert].every(existsSync)) {
    return set;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const sans = options.serverSans ?? ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
  makeCa(set.caCert, set.caKey, 'Gatehouse Development CA');
  issue(set.serverCert, set.serverKey, 'localhost', sans, 'serverAuth', set.caCert, set.caKey, 825);
  for (const name of ['alice', 'bob'] as const) {
    const client = set.clients[name];
    issue(client.cert, client.key, name, [`URI:${client.identity}`], 'clientAuth', set.caCert, set.caKey, 825);
  }
  const untrustedCaKey = join(dir, 'untrusted-ca.key');
  makeCa(set.untrusted.caCert, untrustedCaKey, 'Untrusted CA');
  issue(
    set.untrusted.clientCert,
    set.untrusted.clientKey,
    'mallory',
    ['URI:spiffe://gatehouse.dev/client/mallory'],
    'clientAuth',
    set.untrusted.caCert,
    untrustedCaKey,
    825,
  );
  issueExpired(set);
  return set;
}

/** Makes a fresh set in a new temporary directory (tests); remove it with `rmSync(set.dir, { recursive: true })`. */
export function makeTemporaryDevCertificates(): DevCertificateSet {
  return ensureDevCertificates(mkdtempSync(join(tmpdir(), 'gatehouse-certs-')));
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKey(keyFile: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
}

function makeCa(certFile: string, keyFile: string, commonName: string): void {
  newKey(keyFile);
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    keyFile,
    '-sha256',
    '-days',
    '3650',
    '-subj',
    `/O=Gatehouse/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    certFile,
  ]);
}

function issue(
  certFile: string,
  keyFile: string,
  commonName: string,
  sans: string[],
  usage: 'serverAuth' | 'clientAuth',
  caCert: string,
  caKey: string,
  days: number,
): void {
  newKey(keyFile);
  const csr = `${certFile}.csr`;
  const ext = `${certFile}.ext`;
  openssl(['req', '-new', '-key', keyFile, '-subj', `/O=Gatehouse/CN=${commonName}`, '-out', csr]);
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      `extendedKeyUsage=${usage}`,
      `subjectAltName=${sans.join(',')}`,
    ].join('\n'),
  );
  try {
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caCert,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-days',
      String(days),
      '-sha256',
      '-extfile',
      ext,
      '-out',
      certFile,
    ]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
}

/** `openssl x509` cannot backdate before OpenSSL 3.4, so the expired client goes through `openssl ca`. */
function issueExpired(set: DevCertificateSet): void {
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-ca-'));
  try {
    newKey(set.expired.key);
    const csr = join(work, 'expired.csr');
    openssl(['req', '-new', '-key', set.expired.key, '-subj', '/O=Gatehouse/CN=expired', '-out', csr]);
    writeFileSync(join(work, 'index.txt'), '');
    writeFileSync(
      join(work, 'ca.cnf'),
      [
        '[ca]',
        'default_ca=dev',
        '[dev]',
        `dir=${work}`,
        'database=$dir/index.txt',
        'new_certs_dir=$dir',
        'serial=$dir/serial',
        'default_md=sha256',
        'policy=any',
        'unique_subject=no',
        'copy_extensions=none',
        'x509_extensions=client',
        '[any]',
        'commonName=supplied',
        '[client]',
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=clientAuth',
        `subjectAltName=URI:spiffe://gatehouse.dev/client/expired`,
      ].join('\n'),
    );
    writeFileSync(join(work, 'serial'), '1000\n');
    openssl([
      'ca',
      '-batch',
      '-config',
      join(work, 'ca.cnf'),
      '-cert',
      set.caCert,
      '-keyfile',
      set.caKey,
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200201000000Z',
      '-in',
      csr,
      '-out',
      set.expired.cert,
      '-notext',
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
