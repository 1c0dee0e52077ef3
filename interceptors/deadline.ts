import { status as Status } from '@grpc/grpc-js';
import { DeadlineQueue } from './deadline-queue.js';
import type { GatewayCall, MethodHooks, Step } from './gateway-call.js';
import { deadlineMs, type PartialStatus } from './grpc-compat.js';
import { resolveMethodSettings, type MethodOverrides } from './method-policy.js';
import { plainRejection, type RejectionToStatus } from './rejection.js';

/** Deadline policy of one method. */
export interface DeadlinePolicy {
  /** Deadline given to calls that carry none, in ms; 0 leaves such calls without one (watch streams). */
  defaultMs: number;
  /** Longer client deadlines are cut to this, in ms; 0 accepts any. */
  maxMs: number;
  /** A call with less time than this left when it arrives fails at once with DEADLINE_EXCEEDED, before any work; ms. 0 disables. */
  minBudgetMs: number;
}

/** Options for {@link createDeadlineStep}. */
export interface DeadlineStepOptions {
  /** Policy for every method without an override. */
  defaults: DeadlinePolicy;
  /** Per service (`package.Service`) or method (`package.Service/Method`) overrides, field by field. */
  methods?: MethodOverrides<DeadlinePolicy>;
  /** Builds the status for a refused or timed-out call (rich details come from src/). Default: plain status. */
  reject?: RejectionToStatus;
}

/** The deadline step, with what stops its timers. */
export interface DeadlineStep extends Step {
  /** Stops the queues' timers (the server stopped). */
  stop(): void;
}

/**
 * Gives every call its effective deadline: the client's, else the method's
 * default; cut to the method's maximum; refused at once when less than the
 * minimum budget is left. The deadline goes on the call state (the handler's
 * `ctx.deadline`).
 *
 * A deadline the gateway imposed (a default or a cut) is enforced here: the
 * call joins the queue of its budget (deadline-queue.ts: one timer per
 * distinct budget, not per call) and, when it is due, ends with
 * DEADLINE_EXCEEDED; whatever the handler sends afterwards is dropped. The
 * client's own deadline is enforced by grpc-js, which already has a timer for
 * it. Either way grpc-js then reports the call over, which fires the
 * handler's `ctx.signal` (src/call-context.ts).
 */
export function createDeadlineStep(options: DeadlineStepOptions): DeadlineStep {
  const reject = options.reject ?? plainRejection;
  const queues = new Map<number, DeadlineQueue>();
  const queueFor = (budgetMs: number): DeadlineQueue => {
    let queue = queues.get(budgetMs);
    if (queue === undefined) {
      queue = new DeadlineQueue(budgetMs);
      queues.set(budgetMs, queue);
    }
    return queue;
  };

  return {
    name: 'deadline',
    forMethod(names): MethodHooks {
      const policy = resolveMethodSettings(names.path, options.defaults, options.methods);
      const path = names.path;
      const defaultQueue = policy.defaultMs > 0 ? queueFor(policy.defaultMs) : undefined;
      const maxQueue = policy.maxMs > 0 ? queueFor(policy.maxMs) : undefined;
      // The statuses for a deadline the gateway imposed are the same for every call of the method: built once, when first needed.
      let expiredDefault: PartialStatus | undefined;
      let expiredMax: PartialStatus | undefined;
      const expiry = (call: GatewayCall): PartialStatus => {
        if (call.deadlineSource === 'server default') return (expiredDefault ??= expired(policy.defaultMs, 'server default'));
        if (call.deadlineSource === 'server maximum') return (expiredMax ??= expired(policy.maxMs, 'server maximum'));
        return expired(Math.max(0, call.deadlineAtMs - call.startWallMs), 'client');
      };
      const expired = (budgetMs: number, source: string) =>
        reject({
          code: Status.DEADLINE_EXCEEDED,
          reason: 'DEADLINE_EXCEEDED',
          message: `deadline of ${Math.round(budgetMs)} ms (${source}) exceeded before ${path} finished`,
        });
      return {
        admit(call) {
          const arrivedMs = Date.now();
          const clientMs = deadlineMs(call.getDeadline());
          let queue: DeadlineQueue | undefined;
          if (clientMs === Infinity) {
            if (defaultQueue === undefined) return undefined; // no deadline at all (watch streams)
            call.deadlineAtMs = arrivedMs + policy.defaultMs;
            call.deadlineSource = 'server default';
            queue = defaultQueue;
          } else if (maxQueue !== undefined && clientMs - arrivedMs > policy.maxMs) {
            call.deadlineAtMs = arrivedMs + policy.maxMs;
            call.deadlineSource = 'server maximum';
            queue = maxQueue;
          } else {
            call.deadlineAtMs = clientMs;
          }
          const budgetMs = call.deadlineAtMs - arrivedMs;
          if (policy.minBudgetMs > 0 && budgetMs < policy.minBudgetMs) {
            return reject({
              code: Status.DEADLINE_EXCEEDED,
              reason: 'DEADLINE_TOO_SHORT',
              message:
                `the call arrived with ${Math.max(0, Math.round(budgetMs))} ms left before its deadline; ${path} needs at least ` +
                `${policy.minBudgetMs} ms, so it was refused before any work started: send a longer deadline`,
              metadata: { minBudgetMs: String(policy.minBudgetMs) },
            });
          }
          call.startWallMs = arrivedMs;
          call.expiry = expiry;
          queue?.add(call);
          return undefined;
        },
      };
    },
    stop() {
      for (const queue of queues.values()) queue.stop();
    },
  };
}
