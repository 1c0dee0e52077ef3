import { Counter, type Registry } from 'prom-client';
import { AUTH_FAILURE_REASONS, type AuthFailureReason } from './auth-failure.js';

/** Name of the auth failure counter; deploy/prometheus rules and the dashboard query it. */
export const AUTH_FAILURES_METRIC = 'gatehouse_auth_failures_total';

/** Counts refusals by reason; one per registry, shared by the authentication and authorization interceptors. */
export interface AuthFailureCounter {
  /** Adds one refusal. */
  inc(reason: AuthFailureReason): void;
}

/**
 * The auth failure counter of `registry`, created on first use with a zero
 * series per known reason (so `rate()` and alerts work before the first
 * failure). Both security interceptors ask for it; the registry holds the one
 * instance, so nothing is module-global.
 */
export function authFailureCounter(registry: Registry): AuthFailureCounter {
  let counter = registry.getSingleMetric(AUTH_FAILURES_METRIC) as Counter<'reason'> | undefined;
  if (!counter) {
    counter = new Counter({
      name: AUTH_FAILURES_METRIC,
      help: 'Calls refused by authentication or authorization, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    for (const reason of AUTH_FAILURE_REASONS) counter.labels(reason).inc(0);
  }
  // Children are resolved once per reason: labels() hashes its arguments on every call.
  const children = new Map(AUTH_FAILURE_REASONS.map((reason) => [reason, counter.labels(reason)] as const));
  return { inc: (reason) => children.get(reason)?.inc() };
}
