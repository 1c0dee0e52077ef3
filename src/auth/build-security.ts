import type { ServiceDefinition } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { compileAccessPolicy, AccessPolicyError, type AccessPolicy } from '../../interceptors/access-policy.js';
import { createAuthenticationStep, type RefusalListener } from '../../interceptors/authentication.js';
import { createAuthorizationStep } from '../../interceptors/authorization.js';
import type { Step } from '../../interceptors/gateway-call.js';
import type { PeerCache } from '../../interceptors/peer-cache.js';
import { createJwksSource, type JwksSource } from '../../interceptors/jwks-source.js';
import { createKeyStore, type KeyStore } from '../../interceptors/key-store.js';
import { createTokenVerifier, type TokenVerifier } from '../../interceptors/token-verifier.js';
import { hmacVerificationKey, keysFromJwks, pemVerificationKey, type VerificationKey } from '../../interceptors/verification-keys.js';
import type { AuthConfig } from '../config/auth-schema.js';
import { ConfigError } from '../config/load.js';
import { loadPolicyDocument } from '../config/load-policy.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { loadPackageDefinition } from '../proto/load.js';
import { rejectionToStatus } from '../status/rejection-status.js';
import { ensureDevSigningKey } from './dev-signing-key.js';

/** What the security layers are built from. */
export interface SecurityDependencies {
  config: Pick<Config, 'auth' | 'policy'>;
  registry: Registry;
  logger: Logger;
  /** Every service on the listener; the policy is compiled for their methods. */
  services: readonly { name: string; definition: ServiceDefinition }[];
  /** Services an onlyFor() keeps the security steps away from (health, reflection). */
  exemptServices: readonly string[];
  /** Client certificate identities, parsed once per certificate (shared with the access log). */
  peers: PeerCache;
}

/** The built security steps and what they hold. */
export interface Security {
  /** Certificate identity and bearer token verification (`call.peer`, `call.principal`). */
  authentication: Step;
  /** Per-method policy; must come after authentication. */
  authorization: Step;
  /** The compiled policy. */
  policy: AccessPolicy;
  /** The loaded keys. */
  keys: KeyStore;
  /** The verifier (the bench and tests use it directly). */
  verifier: TokenVerifier;
  /**
   * Starts the JWKS sources (first fetch and refresh timers); resolves once
   * every first fetch has settled, so readiness can wait for the keys. Never
   * rejects: a failed first fetch is logged and retried by the timer.
   */
  start(): Promise<void>;
  /** Stops the JWKS refresh timers. */
  stop(): void;
}

/**
 * Turns the `auth` and `policy` sections into the two security steps.
 * Keys are read and prepared here, once; the policy is resolved for every
 * hosted method here, once. Every problem (unreadable key, bad policy) is
 * listed in one ConfigError, before anything listens. Nothing is fetched and
 * no timer runs until `start()`.
 */
export function buildSecurity(deps: SecurityDependencies): Security {
  const { config, registry, logger } = deps;
  const problems: string[] = [];
  const keys = loadStaticKeys(config.auth, logger, problems);
  const jwks: JwksSource[] = config.auth.jwksUrls.map((source) =>
    createJwksSource({
      url: source.url,
      refreshIntervalMs: source.refreshIntervalSec * 1000,
      minRefetchIntervalMs: source.unknownKidRefetchIntervalSec * 1000,
      timeoutMs: source.timeoutMs,
      onProblem: (message) => logger.warn('JWKS problem', { problem: message }),
    }),
  );

  const exempt = new Set(deps.exemptServices);
  const methodPaths = deps.services.filter((s) => !exempt.has(s.name)).flatMap((s) => pathsOf(s.definition));
  let policy: AccessPolicy | undefined;
  try {
    policy = compileAccessPolicy(loadPolicyDocument(config.policy), {
      methodPaths,
      knownMethodPaths: declaredMethodPaths(),
      allowedIdentities: config.auth.allowedIdentities,
      exemptServices: deps.exemptServices,
    });
  } catch (error) {
    if (error instanceof ConfigError) problems.push(...error.problems);
    else if (error instanceof AccessPolicyError) problems.push(...error.problems.map((p) => `${config.policy.file}: ${p}`));
    else throw error;
  }
  const needsTokens = policy?.paths.some((path) => policy!.ruleFor(path)!.requireToken);
  if (needsTokens && keys.length === 0 && jwks.length === 0) {
    problems.push(
      'auth: the policy requires bearer tokens, but no verification key is configured (auth.hmacKeys, auth.publicKeys, auth.jwksFiles, auth.jwksUrls or auth.devSigningKey)',
    );
  }
  let store: KeyStore | undefined;
  try {
    store = createKeyStore({ keys, jwks, onProblem: (message) => logger.warn('JWKS problem', { problem: message }) });
  } catch (error) {
    problems.push(`auth: ${(error as Error).message}`);
  }
  if (problems.length > 0 || !policy || !store) throw new ConfigError(problems);

  const verifier = createTokenVerifier({
    keys: store,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    requireExp: config.auth.requireExp,
    clockSkewSec: config.auth.clockSkewSec,
    maxTokenLifetimeSec: config.auth.maxTokenLifetimeSec,
    typ: config.auth.typ,
    cacheSize: config.auth.tokenCacheSize,
  });
  const onRefused: RefusalListener = (failure, path, peer) => {
    if (logger.enabled('debug')) logger.debug('call refused', { method: path, code: failure.code, reason: failure.reason, identity: peer?.identity });
  };
  logger.info('security ready', {
    keys: keys.map((k) => `${k.kid} (${k.alg}, ${k.source})`),
    jwksUrls: jwks.map((s) => s.url),
    policyMethods: policy.paths.length,
  });
  return {
    authentication: createAuthenticationStep({ verifier, registry, peers: deps.peers, reject: rejectionToStatus, onRefused }),
    authorization: createAuthorizationStep({ policy, registry, reject: rejectionToStatus, onRefused }),
    policy,
    keys: store,
    verifier,
    start: () => Promise.all(jwks.map((source) => source.start())).then(() => undefined),
    stop: () => {
      for (const source of jwks) source.close();
    },
  };
}

/** HMAC secrets, PEM keys, JWKS files and the development key, prepared as KeyObjects. */
function loadStaticKeys(auth: AuthConfig, logger: Logger, problems: string[]): VerificationKey[] {
  const keys: VerificationKey[] = [];
  const attempt = (where: string, load: () => void) => {
    try {
      load();
    } catch (error) {
      problems.push(`${where}: ${(error as Error).message}`);
    }
  };
  auth.hmacKeys.forEach(
    (key, i) =>
      void attempt(`auth.hmacKeys.${i}`, () => {
        const text = key.secretFile !== undefined ? readFileSync(key.secretFile, 'utf8').trim() : key.secret!;
        keys.push(hmacVerificationKey(key.kid, key.alg, Buffer.from(text, key.encoding), key.secretFile ?? 'config'));
      }),
  );
  auth.publicKeys.forEach(
    (key, i) =>
      void attempt(`auth.publicKeys.${i}`, () => {
        const pem = key.pemFile !== undefined ? readFileSync(key.pemFile) : key.pem!;
        keys.push(pemVerificationKey(key.kid, key.alg, pem, key.pemFile ?? 'config'));
      }),
  );
  auth.jwksFiles.forEach(
    (file, i) =>
      void attempt(`auth.jwksFiles.${i}`, () => {
        const { keys: loaded, problems: skipped } = keysFromJwks(JSON.parse(readFileSync(file, 'utf8')), file);
        problems.push(...skipped);
        keys.push(...loaded);
      }),
  );
  if (auth.devSigningKey.enabled) {
    attempt('auth.devSigningKey', () => {
      const { secret, created } = ensureDevSigningKey(auth.devSigningKey.file);
      if (created) logger.warn('made a development token-signing key; turn auth.devSigningKey off in production', { file: auth.devSigningKey.file });
      keys.push(hmacVerificationKey(auth.devSigningKey.kid, 'HS256', secret, auth.devSigningKey.file));
    });
  }
  return keys;
}

function pathsOf(definition: ServiceDefinition): string[] {
  return Object.values(definition).map((method) => method.path);
}

/** Every method the protos declare, hosted or not, so the policy may name services config has turned off. */
function declaredMethodPaths(): string[] {
  return Object.values(loadPackageDefinition()).flatMap((entry) =>
    typeof entry === 'object' && entry !== null && !('format' in entry) ? pathsOf(entry as unknown as ServiceDefinition) : [],
  );
}
