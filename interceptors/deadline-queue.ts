import { performance } from 'node:perf_hooks';

/**
 * Node timers overflow at 2^31 - 1 ms (24.8 days): a longer delay fires after
 * 1 ms. Every delay handed to a timer is clamped to this first.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the queue needs of a call: intrusive links (no allocation per call) and what to do when its time is up. */
export interface QueuedCall {
  queue: DeadlineQueue | undefined;
  queuePrev: QueuedCall | undefined;
  queueNext: QueuedCall | undefined;
  /** Monotonic ms at which the call is due. */
  queueAtMs: number;
  /** The deadline passed. */
  expire(): void;
}

/**
 * Calls that all get the same budget (a method's default or maximum
 * deadline), in one first-in first-out list: since every call joins with the
 * same budget, the list is in deadline order, so joining and leaving cost a
 * few pointer writes and the whole list needs one timer, not one per call.
 * The timer is lazy: a call that leaves does not re-arm it; when it fires
 * early (its call left), it re-arms for the new head.
 */
export class DeadlineQueue {
  private head: QueuedCall | undefined;
  private tail: QueuedCall | undefined;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param budgetMs how long each call may run, in ms (clamped to {@link MAX_TIMER_MS}).
   * @param nowMs monotonic clock. Default `performance.now`.
   */
  constructor(
    readonly budgetMs: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.budgetMs = Math.min(budgetMs, MAX_TIMER_MS);
  }

  /** Adds a call that just arrived; it expires `budgetMs` from now unless it leaves first. */
  add(call: QueuedCall): void {
    call.queue = this;
    call.queueAtMs = this.nowMs() + this.budgetMs;
    call.queuePrev = this.tail;
    call.queueNext = undefined;
    if (this.tail === undefined) this.head = call;
    else this.tail.queueNext = call;
    this.tail = call;
    if (this.timer === undefined) this.arm(call.queueAtMs);
  }

  /** Takes a call out (it ended); a no-op for a call that is not in this queue. */
  remove(call: QueuedCall): void {
    if (call.queue !== this) return;
    const prev = call.queuePrev;
    const next = call.queueNext;
    if (prev === undefined) this.head = next;
    else prev.queueNext = next;
    if (next === undefined) this.tail = prev;
    else next.queuePrev = prev;
    call.queue = undefined;
    call.queuePrev = undefined;
    call.queueNext = undefined;
  }

  /** Calls waiting. O(n): for tests. */
  get size(): number {
    let n = 0;
    for (let call = this.head; call !== undefined; call = call.queueNext) n++;
    return n;
  }

  /** Stops the timer (the server stopped); calls still queued are no longer expired by it. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(atMs: number): void {
    this.timer = setTimeout(fire, Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(atMs - this.nowMs()))), this);
    // A deadline never keeps the process alive by itself: the calls it belongs to do.
    this.timer.unref();
  }

  /** The timer fired: expire every call that is due, then re-arm for the next one. */
  fire(): void {
    this.timer = undefined;
    const now = this.nowMs();
    // Timers may fire up to a millisecond early by the monotonic clock.
    while (this.head !== undefined && this.head.queueAtMs <= now + 1) {
      const call = this.head;
      this.remove(call);
      call.expire();
    }
    if (this.head !== undefined && this.timer === undefined) this.arm(this.head.queueAtMs);
  }
}

function fire(queue: DeadlineQueue): void {
  queue.fire();
}
