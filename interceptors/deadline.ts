import { status as Status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import { callStateOf } from './call-state.js';
import { ForwardingCall, deadlineMs, type PartialStatus } from './forwarding-call.js';
import { methodSettingsCache, type MethodOverrides } from './method-policy.js';
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

/** Options for {@link createDeadlineInterceptor}. */
export interface DeadlineInterceptorOptions {
  /** Policy for every method without an override. */
  defaults: DeadlinePolicy;
  /** Per service (`package.Service`) or method (`package.Service/Method`) overrides, field by field. */
  methods?: MethodOverrides<DeadlinePolicy>;
  /** Builds the status for a refused or timed-out call (rich details come from src/). Default: plain status. */
  reject?: RejectionToStatus;
  /** Wall clock, epoch ms. Default `Date.now`. */
  nowMs?: () => number;
}

/**
 * Gives every call its effective deadline: the client's, else the method's
 * default; cut to the method's maximum; refused at once when less than the
 * minimum budget is left. The deadline goes on the call state (the handler's
 * `ctx.deadline`).
 *
 * When the deadline passes, this layer ends the call with DEADLINE_EXCEEDED
 * itself (grpc-js only enforces the client's own deadline) and drops whatever
 * the handler sends afterwards, so the layers outside see one status. grpc-js
 * then emits `cancelled` on the call, which fires the handler's `ctx.signal`
 * (src/call-context.ts): one timer per call, not one here and one there.
 */
export function createDeadlineInterceptor(options: DeadlineInterceptorOptions): ServerInterceptor {
  const policyFor = methodSettingsCache(options.defaults, options.methods);
  const reject = options.reject ?? plainRejection;
  const now = options.nowMs ?? Date.now;

  class DeadlineCall extends ForwardingCall {
    private timer: NodeJS.Timeout | undefined;
    private ended = false;
    private budgetMs = 0;
    private source: 'client' | 'server default' | 'server maximum' = 'client';

    constructor(next: ConstructorParameters<typeof ForwardingCall>[0], private readonly path: string) {
      super(next);
    }

    override onReceiveMetadata(metadata: Metadata): void {
      const policy = policyFor(this.path);
      const arrivedMs = now();
      const clientMs = deadlineMs(this.next.getDeadline());
      let effectiveMs = clientMs;
      if (!Number.isFinite(clientMs)) {
        effectiveMs = policy.defaultMs > 0 ? arrivedMs + policy.defaultMs : Infinity;
        this.source = 'server default';
      } else if (policy.maxMs > 0 && clientMs - arrivedMs > policy.maxMs) {
        effectiveMs = arrivedMs + policy.maxMs;
        this.source = 'server maximum';
      }
      if (Number.isFinite(effectiveMs)) {
        const budgetMs = effectiveMs - arrivedMs;
        if (policy.minBudgetMs > 0 && budgetMs < policy.minBudgetMs) {
          this.ended = true;
          this.next.sendStatus(reject({
            code: Status.DEADLINE_EXCEEDED,
            reason: 'DEADLINE_TOO_SHORT',
            message: `the call arrived with ${Math.max(0, Math.round(budgetMs))} ms left before its deadline; ${this.path} needs at least ` +
              `${policy.minBudgetMs} ms, so it was refused before any work started: send a longer deadline`,
            metadata: { minBudgetMs: String(policy.minBudgetMs) },
          }));
          return;
        }
        this.budgetMs = budgetMs;
        callStateOf(metadata).deadline = new Date(effectiveMs);
        // The call object rides as the timer argument: no closure per call.
        this.timer = setTimeout(expire, budgetMs, this);
      }
      this.listener.onReceiveMetadata(metadata);
    }

    /** The deadline passed: the client gets DEADLINE_EXCEEDED now; grpc-js then emits `cancelled`, which aborts the handler. */
    expire(): void {
      this.timer = undefined;
      if (this.ended) return;
      this.ended = true;
      this.next.sendStatus(reject({
        code: Status.DEADLINE_EXCEEDED,
        reason: 'DEADLINE_EXCEEDED',
        message: `deadline of ${Math.round(this.budgetMs)} ms (${this.source}) exceeded before ${this.path} finished`,
      }));
    }

    override sendMessage(message: unknown, callback: () => void): void {
      if (this.ended) return; // as grpc-js does once a call is over: the write is dropped and its callback never runs
      this.next.sendMessage(message, callback);
    }
    override sendStatus(status: PartialStatus): void {
      if (this.ended) return;
      this.ended = true;
      this.next.sendStatus(status);
    }
    override onCancel(): void {
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.ended = true;
      this.listener.onCancel();
    }
  }

  return (method, call) => new DeadlineCall(call, method.path).asInterceptingCall();
}

function expire(call: { expire(): void }): void {
  call.expire();
}
