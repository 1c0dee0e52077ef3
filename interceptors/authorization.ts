import type { Registry } from 'prom-client';
import { checkAccess, methodNotInPolicy, type AccessPolicy } from './access-policy.js';
import type { AuthFailure } from './auth-failure.js';
import type { TokenPrincipal } from './call-state.js';
import { authFailureCounter } from './auth-metrics.js';
import type { RefusalListener } from './authentication.js';
import type { Step } from './gateway-call.js';
import type { PartialStatus } from './grpc-compat.js';
import type { PeerIdentity } from './peer-identity.js';
import { plainRejection, type RejectionToStatus } from './rejection.js';

/** Options for {@link createAuthorizationStep}. */
export interface AuthorizationOptions {
  /** The compiled per-method policy. Methods it does not name are denied. */
  policy: AccessPolicy;
  /** Registry for `gatehouse_auth_failures_total{reason}`. */
  registry: Registry;
  /** Builds the status sent for a refusal; the server passes its one error mapping. Default code and message only. */
  reject?: RejectionToStatus;
  /** Told about each refusal (for the log). */
  onRefused?: RefusalListener;
}

/**
 * Enforces the per-method policy on what the authentication step established;
 * it must run after it (without it there is no peer and no principal, and
 * every rule that needs one refuses). The rule is resolved per method at
 * start; a method the policy does not name is denied.
 */
export function createAuthorizationStep(options: AuthorizationOptions): Step {
  const toStatus = options.reject ?? plainRejection;
  const failures = authFailureCounter(options.registry);
  const onRefused = options.onRefused;
  const statuses = new WeakMap<AuthFailure, PartialStatus>();
  return {
    name: 'authorization',
    forMethod(names) {
      const path = names.path;
      const rule = options.policy.ruleFor(path);
      const notInPolicy = rule === undefined ? methodNotInPolicy(path) : undefined;
      // The decision depends only on the rule (fixed here) and on the caller's identity and token claims, which the
      // peer and token caches hand out as the same frozen objects call after call: the last decision is kept.
      let lastPeer: PeerIdentity | undefined;
      let lastPrincipal: TokenPrincipal | undefined;
      let lastFailure: AuthFailure | undefined;
      let decided = false;
      return {
        admit(call) {
          const peer = call.peer;
          const principal = call.principal;
          let failure: AuthFailure | undefined;
          if (decided && peer === lastPeer && principal === lastPrincipal) failure = lastFailure;
          else {
            failure = notInPolicy ?? checkAccess(rule!, peer, principal);
            lastPeer = peer;
            lastPrincipal = principal;
            lastFailure = failure;
            decided = true;
          }
          if (failure === undefined) return undefined;
          failures.inc(failure.reason);
          onRefused?.(failure, path, call.peer);
          let status = statuses.get(failure);
          if (status === undefined) {
            status = toStatus(failure);
            // Prepared refusals are reused, so their statuses are too; a refusal built per call dies with its entry.
            statuses.set(failure, status);
          }
          return status;
        },
      };
    },
  };
}
