import type { Metadata, ServerInterceptingCallInterface, ServerInterceptor } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { checkAccess, methodNotInPolicy, type AccessPolicy, type CompiledAccessRule } from './access-policy.js';
import { authFailureCounter, type AuthFailureCounter } from './auth-metrics.js';
import type { RefusalListener } from './authentication.js';
import { peekCallState } from './call-state.js';
import { ForwardingCall } from './forwarding-call.js';
import { plainRejection, type RejectionToStatus } from './rejection.js';

/** Options for {@link createAuthorizationInterceptor}. */
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

interface Shared {
  policy: AccessPolicy;
  toStatus: RejectionToStatus;
  failures: AuthFailureCounter;
  onRefused: RefusalListener | undefined;
}

/**
 * Enforces the per-method policy on what the authentication interceptor
 * established; it must run after it (without it there is no peer and no
 * principal, and every rule that needs one refuses). The rule is found by
 * path in a map built at start; a method the policy does not name is denied.
 */
export function createAuthorizationInterceptor(options: AuthorizationOptions): ServerInterceptor {
  const shared: Shared = {
    policy: options.policy,
    toStatus: options.reject ?? plainRejection,
    failures: authFailureCounter(options.registry),
    onRefused: options.onRefused,
  };
  return (descriptor, call) => new AuthorizingCall(call, shared, descriptor.path, shared.policy.ruleFor(descriptor.path)).asInterceptingCall();
}

/** One call's authorization layer: decides on metadata, then passes through or refuses and drops the rest. */
class AuthorizingCall extends ForwardingCall {
  private refused = false;

  constructor(
    next: ServerInterceptingCallInterface,
    private readonly shared: Shared,
    private readonly path: string,
    private readonly rule: CompiledAccessRule | undefined,
  ) {
    super(next);
  }

  override onReceiveMetadata(metadata: Metadata): void {
    const state = peekCallState(metadata);
    const failure = this.rule === undefined ? methodNotInPolicy(this.path) : checkAccess(this.rule, state?.peer, state?.principal);
    if (failure === undefined) {
      this.listener.onReceiveMetadata(metadata);
      return;
    }
    this.refused = true;
    const shared = this.shared;
    shared.failures.inc(failure.reason);
    shared.onRefused?.(failure, this.path, state?.peer);
    this.next.sendStatus(shared.toStatus(failure));
  }

  override onReceiveMessage(message: unknown): void {
    if (!this.refused) this.listener.onReceiveMessage(message);
  }

  override onReceiveHalfClose(): void {
    if (!this.refused) this.listener.onReceiveHalfClose();
  }
}
