/** A caller's exclusive use of one pooled worker: the interface holders use, and the pool's implementation. */

import type { Worker } from 'node:worker_threads';

import { POOL_CONTROL_ABORT } from './pool-worker.js';
import { WorkerPoolError } from './worker-pool-error.js';

/** Who a lease is waiting for. */
export type LeaseWait = 'worker' | 'holder';

/** Exclusive use of one worker for one job or one session. */
export interface WorkerLease {
  /** Index of the slot, stable across worker replacements (for logs). */
  readonly slot: number;
  /** Time the caller waited in the queue, in ms. */
  readonly queueWaitMs: number;
  /** Set once the lease is lost (worker crashed or hung, caller idle, pool stopped); `onLost` was called with it. */
  readonly lost: WorkerPoolError | undefined;
  /** Messages from the worker while leased (and while releasing, until the slot is handed on). */
  onMessage: (message: unknown) => void;
  /**
   * Called once when the lease is lost. For `idle` the worker is still there: the holder must stop it and
   * `release`, else it is terminated after `cancelGraceMs`. For other kinds the worker is already gone.
   */
  onLost: (error: WorkerPoolError) => void;
  /** Posts to the worker. Throws the lease's `lost` error, if any. */
  post(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  /**
   * Tells the watchdogs who is expected to act next: `worker` (it owes a reply; silence beyond `hungTimeoutMs`
   * means hung) or `holder` (the worker waits for the caller; longer than `idleTimeoutMs` means idle).
   * A new lease waits for its holder.
   */
  waitingOn(who: LeaseWait): void;
  /** Raises the slot's abort flag: the worker stops the operation in progress at its next check. */
  abortWork(): void;
  /**
   * Gives the worker back. With `settled`, the slot is handed on only once it resolves (the worker finished its
   * cancelled job, or reset itself); if it rejects or takes longer than `cancelGraceMs`, the worker is replaced.
   * Idempotent; a no-op once the worker is gone.
   */
  release(settled?: Promise<unknown>): void;
}

/** The slot a lease is on, as the lease sees it. */
export interface LeaseSlot {
  /** Index in the pool. */
  readonly index: number;
  /** The slot's worker; undefined while it is being replaced. */
  readonly worker: Worker | undefined;
  /** The slot's control block (see pool-worker.ts). */
  readonly control: Int32Array;
  /** The lease the slot is serving now. */
  readonly lease: unknown;
}

/** The pool's implementation of `WorkerLease`; the pool drives `lose`, the holder the rest. */
export class Lease implements WorkerLease {
  lost: WorkerPoolError | undefined;
  lostAt = 0;
  released = false;
  waiting: LeaseWait = 'holder';
  waitingSince = performance.now();
  onMessage: (message: unknown) => void = () => undefined;
  onLost: (error: WorkerPoolError) => void = () => undefined;

  /**
   * @param engine engine name, for messages
   * @param s the slot leased
   * @param queueWaitMs time the caller waited
   * @param onRelease tells the pool the holder gave the worker back
   */
  constructor(
    private readonly engine: string,
    private readonly s: LeaseSlot,
    readonly queueWaitMs: number,
    private readonly onRelease: (lease: Lease, settled: Promise<unknown> | undefined) => void,
  ) {}

  get slot(): number {
    return this.s.index;
  }

  post(message: unknown, transfer?: readonly ArrayBuffer[]): void {
    if (this.lost && this.lost.kind !== 'idle') throw this.lost;
    const worker = this.s.lease === this ? this.s.worker : undefined;
    if (!worker) throw this.lost ?? new WorkerPoolError('stopped', this.engine, `${this.engine} no longer serves this call`);
    worker.postMessage(message, transfer);
  }

  waitingOn(who: LeaseWait): void {
    if (who === this.waiting) return;
    this.waiting = who;
    this.waitingSince = performance.now();
  }

  abortWork(): void {
    if (this.s.lease === this) Atomics.store(this.s.control, POOL_CONTROL_ABORT, 1);
  }

  release(settled?: Promise<unknown>): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this, settled);
  }

  /** Marks the lease lost and tells the holder, once. */
  lose(error: WorkerPoolError): void {
    if (this.lost) return;
    this.lost = error;
    this.lostAt = performance.now();
    try {
      this.onLost(error);
    } catch {
      // A holder's bug must not break the pool's bookkeeping.
    }
  }
}
