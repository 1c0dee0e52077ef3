import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import { checkCaBundle, checkIdentity, sha256, type CheckedCaBundle, type CheckedIdentity } from './certificate-files.js';

/** `gatehouse_certificate_expiry_seconds{certificate}`: seconds until notAfter, at scrape time. */
export const CERTIFICATE_EXPIRY_METRIC = 'gatehouse_certificate_expiry_seconds';
/** `gatehouse_certificate_reload_failures_total{certificate}`: changed files that were refused. */
export const CERTIFICATE_RELOAD_FAILURES_METRIC = 'gatehouse_certificate_reload_failures_total';

/** The `certificate` label values. */
export type CertificateLabel = 'server' | 'client-ca';

/** Options for {@link createReloadingCredentials}. */
export interface ReloadingCredentialsOptions {
  /** PEM server certificate chain, leaf first. */
  certFile: string;
  /** PEM private key of the server certificate. */
  keyFile: string;
  /** PEM CA bundle client certificates must chain to; undefined for TLS without client certificates. */
  clientCaFile?: string;
  /** Refuse clients without a certificate signed by clientCaFile. Default true when clientCaFile is set. */
  requireClientCertificate?: boolean;
  /** How often the files are checked for changes, in ms; 0 turns automatic checks off (call `reloadNow`). Default 10000. */
  reloadIntervalMs?: number;
  /** Registry for the expiry gauge and reload failure counter. */
  registry: Registry;
  /** Reloads and refusals are logged here. */
  logger: Logger;
  /** Wall clock, epoch ms (tests). Default Date.now. */
  nowMs?: () => number;
}

/** What one check of the files did. */
export type ReloadOutcome = 'unchanged' | 'reloaded' | 'refused';

/** Server credentials whose certificate, key and client CA follow their files. */
export interface ReloadingCredentials {
  /** Pass to `server.bindAsync`; every listener bound with it follows reloads. */
  readonly credentials: ServerCredentials;
  /** Checks the files now; the outcome of the server pair and of the CA, worst first. */
  reloadNow(): ReloadOutcome;
  /** The leaf certificate being served. */
  servingCertificate(): { subject: string; notAfter: Date; fingerprint256: string };
  /** Whole days until the serving certificate's notAfter. */
  daysUntilExpiry(): number;
  /** Stops the file checks. */
  close(): void;
}

type IdentityListener = experimental.IdentityCertificateUpdateListener;
type CaListener = experimental.CaCertificateUpdateListener;

/**
 * A grpc-js certificate provider that only ever hands out checked files.
 * grpc-js's FileWatcherCertificateProvider passes a broken reload through as
 * "no certificate", after which the server drops every new connection
 * (DESIGN.md); this one keeps the last good pair and CA instead.
 */
class LastGoodCertificateProvider implements experimental.CertificateProvider {
  private identityListeners = new Set<IdentityListener>();
  private caListeners = new Set<CaListener>();

  constructor(
    private identity: CheckedIdentity,
    private ca: CheckedCaBundle | undefined,
  ) {}

  setIdentity(identity: CheckedIdentity): void {
    this.identity = identity;
    for (const listener of this.identityListeners) listener({ certificate: identity.certificate, privateKey: identity.privateKey });
  }
  setCa(ca: CheckedCaBundle): void {
    this.ca = ca;
    for (const listener of this.caListeners) listener({ caCertificate: ca.pem });
  }

  // grpc-js subscribes when a listener binds and needs the current value to build its TLS context. It
  // subscribes before it registers the watcher that applies updates (server-credentials.js _addWatcher),
  // so a value delivered synchronously would be lost: deliver it in a microtask, still before any
  // connection can be accepted.
  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => {
      if (this.identityListeners.has(listener)) listener({ certificate: this.identity.certificate, privateKey: this.identity.privateKey });
    });
  }
  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => {
      if (this.ca && this.caListeners.has(listener)) listener({ caCertificate: this.ca.pem });
    });
  }
  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }
}

/**
 * Server credentials that reload the certificate, key and client CA when
 * their files change, without a restart and without touching live
 * connections (a TLS context change only affects new handshakes). A changed
 * file that does not check out (half-written, key of another pair, expired,
 * unparsable CA) is refused: the last good files keep serving, and the
 * refusal is logged and counted. Files are compared by content, so a
 * Kubernetes secret's symlink swap and an in-place rewrite are both seen.
 * The first load must succeed: it throws with the reason.
 */
export function createReloadingCredentials(options: ReloadingCredentialsOptions): ReloadingCredentials {
  const nowMs = options.nowMs ?? Date.now;
  const { logger } = options;
  const requireClientCertificate = options.requireClientCertificate ?? options.clientCaFile !== undefined;

  let identity: CheckedIdentity;
  let ca: CheckedCaBundle | undefined;
  try {
    identity = checkIdentity(readFileSync(options.certFile), readFileSync(options.keyFile), nowMs());
  } catch (error) {
    throw new Error(`server certificate ${options.certFile} / key ${options.keyFile}: ${(error as Error).message}`);
  }
  if (options.clientCaFile !== undefined) {
    try {
      ca = checkCaBundle(readFileSync(options.clientCaFile));
    } catch (error) {
      throw new Error(`client CA ${options.clientCaFile}: ${(error as Error).message}`);
    }
  }

  const provider = new LastGoodCertificateProvider(identity, ca);
  const credentials = experimental.createCertificateProviderServerCredentials(provider, ca ? provider : null, requireClientCertificate);
  const failures = reloadFailureCounter(options.registry);
  registerExpiryGauge(options.registry, () => {
    const values: [CertificateLabel, number][] = [['server', (Date.parse(identity.leaf.validTo) - nowMs()) / 1000]];
    if (ca) values.push(['client-ca', (Math.min(...ca.certificates.map((c) => Date.parse(c.validTo))) - nowMs()) / 1000]);
    return values;
  });

  // Digests of files already refused, so a broken file is logged and counted once, not at every check.
  let refusedIdentityDigest: string | undefined;
  let refusedCaDigest: string | undefined;

  function checkServerPair(): ReloadOutcome {
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(options.certFile);
      key = readFileSync(options.keyFile);
    } catch (error) {
      // Mid-rename a file can be briefly missing; treat it like a broken file (counted once per distinct error).
      return refuseIdentity(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, sha256(Buffer.from(String(error))));
    }
    const digest = sha256(cert, key);
    if (digest === identity.digest) return 'unchanged';
    if (digest === refusedIdentityDigest) return 'refused';
    let checked: CheckedIdentity;
    try {
      checked = checkIdentity(cert, key, nowMs());
    } catch (error) {
      return refuseIdentity((error as Error).message, digest);
    }
    identity = checked;
    refusedIdentityDigest = undefined;
    provider.setIdentity(checked);
    logger.info('server certificate reloaded', {
      certificate: options.certFile,
      subject: checked.leaf.subject.replace(/\n/g, ', '),
      notAfter: new Date(checked.leaf.validTo).toISOString(),
      fingerprint256: checked.leaf.fingerprint256,
    });
    return 'reloaded';
  }

  function refuseIdentity(reason: string, digest: string): ReloadOutcome {
    if (digest !== refusedIdentityDigest) {
      refusedIdentityDigest = digest;
      failures.labels('server').inc();
      logger.error('server certificate reload refused; the previous certificate keeps serving', {
        certificate: options.certFile,
        key: options.keyFile,
        problem: reason,
        servingNotAfter: new Date(identity.leaf.validTo).toISOString(),
      });
    }
    return 'refused';
  }

  function checkCa(): ReloadOutcome {
    const file = options.clientCaFile;
    if (file === undefined || ca === undefined) return 'unchanged';
    let pem: Buffer;
    try {
      pem = readFileSync(file);
    } catch (error) {
      return refuseCa(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, sha256(Buffer.from(String(error))));
    }
    const digest = sha256(pem);
    if (digest === ca.digest) return 'unchanged';
    if (digest === refusedCaDigest) return 'refused';
    let checked: CheckedCaBundle;
    try {
      checked = checkCaBundle(pem);
    } catch (error) {
      return refuseCa((error as Error).message, digest);
    }
    ca = checked;
    refusedCaDigest = undefined;
    provider.setCa(checked);
    logger.info('client CA reloaded', { file, certificates: checked.certificates.length });
    return 'reloaded';
  }

  function refuseCa(reason: string, digest: string): ReloadOutcome {
    if (digest !== refusedCaDigest) {
      refusedCaDigest = digest;
      failures.labels('client-ca').inc();
      logger.error('client CA reload refused; the previous CA bundle stays in use', { file: options.clientCaFile, problem: reason });
    }
    return 'refused';
  }

  function reloadNow(): ReloadOutcome {
    // CA first: a rotation that adds a new CA and a server pair it signed should accept new clients by the time the pair changes.
    const outcomes = [checkCa(), checkServerPair()];
    return outcomes.includes('refused') ? 'refused' : outcomes.includes('reloaded') ? 'reloaded' : 'unchanged';
  }

  const intervalMs = options.reloadIntervalMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  if (intervalMs > 0) {
    timer = setInterval(() => {
      try {
        reloadNow();
      } catch (error) {
        logger.error('certificate check failed', { error: (error as Error).message });
      }
    }, intervalMs);
    timer.unref();
  }

  return {
    credentials,
    reloadNow,
    servingCertificate: () => ({
      subject: identity.leaf.subject,
      notAfter: new Date(identity.leaf.validTo),
      fingerprint256: identity.leaf.fingerprint256,
    }),
    daysUntilExpiry: () => Math.floor((Date.parse(identity.leaf.validTo) - nowMs()) / 86_400_000),
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

function reloadFailureCounter(registry: Registry): Counter<'certificate'> {
  const existing = registry.getSingleMetric(CERTIFICATE_RELOAD_FAILURES_METRIC) as Counter<'certificate'> | undefined;
  if (existing) return existing;
  const counter = new Counter({
    name: CERTIFICATE_RELOAD_FAILURES_METRIC,
    help: 'Changed certificate files refused at reload (half-written, mismatched key, expired); the last good certificate keeps serving.',
    labelNames: ['certificate'],
    registers: [registry],
  });
  // Zero series from the start, so increase() and alerts see the first failure.
  counter.labels('server').inc(0);
  counter.labels('client-ca').inc(0);
  return counter;
}

/**
 * The gauge reads the serving certificates at scrape time, so "seconds until"
 * is always current. One source per registry: a second listener with the same
 * registry (not something the gateway does) leaves the first one reporting.
 */
function registerExpiryGauge(registry: Registry, read: () => [CertificateLabel, number][]): void {
  if (registry.getSingleMetric(CERTIFICATE_EXPIRY_METRIC)) return;
  new Gauge({
    name: CERTIFICATE_EXPIRY_METRIC,
    help: 'Seconds until the served certificate (server) or the earliest client CA certificate (client-ca) expires.',
    labelNames: ['certificate'],
    registers: [registry],
    // Summed over workers (serve --workers N) the 14-day alert would fire at 7 days: report the soonest instead.
    aggregator: 'min',
    collect() {
      for (const [label, seconds] of read()) this.labels(label).set(seconds);
    },
  });
}
