import { permissionDenied, unauthenticated, type AuthFailure } from './auth-failure.js';
import type { TokenPrincipal } from './call-state.js';
import { compileIdentityPatterns, type IdentityMatcher } from './identity-pattern.js';
import type { PeerIdentity } from './peer-identity.js';

/** What a caller needs to call a method. Every field is optional; a method's rule overrides its service's, which overrides the defaults. */
export interface AccessRule {
  /** A valid bearer token must be sent. Default true. */
  requireToken?: boolean;
  /** Every one of these scopes must be in the token. Default none. */
  scopes?: readonly string[];
  /** Certificate identities allowed (glob patterns, see identity-pattern.ts). Default: any identity the global allow-list admits. */
  identities?: readonly string[];
  /** The token must be certificate-bound (`cnf.x5t#S256`, RFC 8705). Default false. */
  requireBoundToken?: boolean;
  /** The token's `sub` must equal the client certificate identity. Default false. */
  requireSubjectMatchesIdentity?: boolean;
}

/** A service's rule, plus per-method overrides keyed by method name (`Order`). */
export interface ServiceAccessRule extends AccessRule {
  methods?: Readonly<Record<string, AccessRule>>;
}

/** The policy document (config/policy.yaml). Services not named are denied. */
export interface AccessPolicyDocument {
  /** Applied under every service rule. */
  defaults?: AccessRule;
  /** Rules by fully-qualified service name (`cheesefarm.v1.CheeseService`). */
  services: Readonly<Record<string, ServiceAccessRule>>;
}

/** One method's effective rule, resolved and compiled at start. */
export interface CompiledAccessRule {
  /** `/package.Service/Method`. */
  readonly path: string;
  /** A valid bearer token must be sent. */
  readonly requireToken: boolean;
  /** Scopes the token must all carry, deduplicated. */
  readonly scopes: readonly string[];
  /** The token must be certificate-bound (RFC 8705). */
  readonly requireBoundToken: boolean;
  /** The token's sub must equal the certificate identity. */
  readonly requireSubjectMatchesIdentity: boolean;
  /** A verified client certificate is needed (identity patterns, binding or sub match in force). */
  readonly requireCertificate: boolean;
  /** Global allow-list and the rule's patterns together. */
  readonly identityAllowed: IdentityMatcher;
  /** Prepared refusals, so a refusal allocates nothing it need not. */
  readonly failures: {
    readonly certificateRequired: AuthFailure;
    readonly tokenMissing: AuthFailure;
    readonly bindingRequired: AuthFailure;
    readonly scopeMissing: readonly AuthFailure[];
  };
}

/** The compiled policy: a map lookup per call. */
export interface AccessPolicy {
  /** The rule for a method path; undefined means the method is not in the policy and is denied. */
  ruleFor(path: string): CompiledAccessRule | undefined;
  /** Every method path with a rule. */
  readonly paths: readonly string[];
}

/** Options for {@link compileAccessPolicy}. */
export interface CompileAccessPolicyOptions {
  /** Every method path the server hosts (`/pkg.Service/Method`); the policy may only name these. */
  methodPaths: readonly string[];
  /** Methods that exist but may not be hosted (services turned off in config); the policy may name them. Default none. */
  knownMethodPaths?: readonly string[];
  /** Identities allowed at all, before any per-method rule (glob patterns). Default any. */
  allowedIdentities?: readonly string[];
  /** Services the policy need not (and may not) name because a select() exempts them (health, reflection). */
  exemptServices?: readonly string[];
}

/** Thrown when the policy names things the server does not host or contradicts itself; lists every problem. */
export class AccessPolicyError extends Error {
  override readonly name = 'AccessPolicyError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid access policy:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Resolves the rule of every hosted method once, at start. A policy naming a
 * service or method that does not exist is an error (a typo would otherwise
 * silently deny, or worse, leave the intended rule unapplied); naming a known
 * service that is not hosted right now is fine.
 */
export function compileAccessPolicy(document: AccessPolicyDocument, options: CompileAccessPolicyOptions): AccessPolicy {
  const problems: string[] = [];
  const exempt = new Set(options.exemptServices ?? []);
  const methodsByService = new Map<string, Set<string>>();
  for (const path of [...options.methodPaths, ...(options.knownMethodPaths ?? [])]) {
    const { service, method } = splitPath(path);
    if (!methodsByService.has(service)) methodsByService.set(service, new Set());
    methodsByService.get(service)!.add(method);
  }
  for (const [service, rule] of Object.entries(document.services)) {
    const methods = methodsByService.get(service);
    if (exempt.has(service)) problems.push(`services.${service}: exempt from authentication by the server; remove it from the policy`);
    else if (!methods)
      problems.push(`services.${service}: no such service (known: ${[...methodsByService.keys()].filter((s) => !exempt.has(s)).join(', ')})`);
    for (const method of Object.keys(rule.methods ?? {})) {
      if (methods && !methods.has(method))
        problems.push(`services.${service}.methods.${method}: ${service} has no method ${method} (it has ${[...methods].join(', ')})`);
    }
  }
  const allowedIdentities = options.allowedIdentities ?? ['**'];
  const globalAllowed = compileIdentityPatterns(allowedIdentities);
  // A global allow-list that admits only some identities needs an identity to check, so it needs a certificate.
  const globalNeedsCertificate = !allowedIdentities.includes('**');
  const rules = new Map<string, CompiledAccessRule>();
  for (const path of options.methodPaths) {
    const { service, method } = splitPath(path);
    const serviceRule = document.services[service];
    if (!serviceRule || exempt.has(service)) continue;
    const merged: AccessRule = { ...document.defaults, ...withoutMethods(serviceRule), ...serviceRule.methods?.[method] };
    const compiled = compileRule(path, merged, globalAllowed, globalNeedsCertificate);
    if (compiled.scopes.length > 0 && !compiled.requireToken) problems.push(`${path}: scopes are required but requireToken is false`);
    if ((compiled.requireBoundToken || compiled.requireSubjectMatchesIdentity) && !compiled.requireToken) {
      problems.push(`${path}: a bound token or sub match is required but requireToken is false`);
    }
    rules.set(path, compiled);
  }
  if (problems.length > 0) throw new AccessPolicyError(problems);
  return { ruleFor: (path) => rules.get(path), paths: [...rules.keys()] };
}

/**
 * Decides one call against its rule. Returns undefined when allowed.
 * Missing or unsuitable credentials are UNAUTHENTICATED (the caller can fix
 * them by presenting other ones); a known caller without the right is
 * PERMISSION_DENIED.
 */
export function checkAccess(
  rule: CompiledAccessRule,
  peer: PeerIdentity | undefined,
  principal: TokenPrincipal | undefined,
): AuthFailure | undefined {
  if (peer === undefined) {
    if (rule.requireCertificate) return rule.failures.certificateRequired;
  } else if (!rule.identityAllowed(peer.identity)) {
    return permissionDenied('IDENTITY_NOT_ALLOWED', `client certificate identity ${peer.identity} is not allowed to call ${rule.path}`);
  }
  if (principal === undefined) return rule.requireToken ? rule.failures.tokenMissing : undefined;
  if (rule.requireBoundToken && principal.boundThumbprint === undefined) return rule.failures.bindingRequired;
  if (rule.requireSubjectMatchesIdentity && principal.subject !== peer?.identity) {
    return unauthenticated(
      'TOKEN_SUBJECT_MISMATCH',
      `token sub does not match the client certificate identity ${peer?.identity ?? ''}; ${rule.path} requires them to be equal`,
    );
  }
  const scopes = rule.scopes;
  for (let i = 0; i < scopes.length; i++) {
    if (!principal.scopes.has(scopes[i]!)) return rule.failures.scopeMissing[i];
  }
  return undefined;
}

/** The failure for a method that is not in the policy. */
export function methodNotInPolicy(path: string): AuthFailure {
  return permissionDenied('METHOD_NOT_IN_POLICY', `${path} is not in the access policy, so it is denied; add it to the policy to allow it`);
}

function compileRule(path: string, rule: AccessRule, globalAllowed: IdentityMatcher, globalNeedsCertificate: boolean): CompiledAccessRule {
  const own = rule.identities === undefined ? undefined : compileIdentityPatterns(rule.identities);
  const requireToken = rule.requireToken ?? true;
  const requireBoundToken = rule.requireBoundToken ?? false;
  const requireSubjectMatchesIdentity = rule.requireSubjectMatchesIdentity ?? false;
  const scopes = Object.freeze([...new Set(rule.scopes ?? [])]);
  return Object.freeze({
    path,
    requireToken,
    scopes,
    requireBoundToken,
    requireSubjectMatchesIdentity,
    requireCertificate: globalNeedsCertificate || rule.identities !== undefined || requireBoundToken || requireSubjectMatchesIdentity,
    identityAllowed: own === undefined ? globalAllowed : (identity: string) => globalAllowed(identity) && own(identity),
    failures: Object.freeze({
      certificateRequired: unauthenticated('CLIENT_CERTIFICATE_REQUIRED', `${path} requires a client certificate`),
      tokenMissing: unauthenticated('TOKEN_MISSING', `${path} requires a bearer token: send "authorization: Bearer <token>"`),
      bindingRequired: unauthenticated('TOKEN_BINDING_REQUIRED', `${path} requires a certificate-bound token (cnf x5t#S256, RFC 8705)`),
      scopeMissing: Object.freeze(scopes.map((scope) => permissionDenied('SCOPE_MISSING', `scope ${scope} required for ${path}`))),
    }),
  });
}

function splitPath(path: string): { service: string; method: string } {
  const slash = path.lastIndexOf('/');
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

function withoutMethods(rule: ServiceAccessRule): AccessRule {
  const { methods: _methods, ...rest } = rule;
  return rest;
}
