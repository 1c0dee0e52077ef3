/**
 * One pool of engine worker threads, used by speech synthesis (eSpeak NG, Flite) and speech recognition
 * (PocketSphinx). A caller leases a slot (its worker) for one job or one session, waiting in a bounded FIFO queue
 * with a timeout when every worker is busy. The pool keeps the slots healthy: a worker that crashes, hangs, or does
 * not clean up after a cancel is terminated and replaced; a worker that fails to start is retried with exponential
 * backoff, forever; a caller that sits on a worker without using it loses it. Every failure is a `WorkerPoolError`.
 *
 * What the worker and the leaseholder say to each other is engine-specific and stays in the engine; the pool only
 * needs the start-up handshake of `pool-worker.ts`, and to be told, through `WorkerLease.waitingOn`, who the lease
 * is waiting for: the worker (the hang watchdog runs) or the leaseholder (the idle watchdog runs).
 */

import type { Worker } from 'node:worker_threads';

import { spawnModuleWorker } from '../module-worker.js';
import { POOL_CONTROL_ABORT, POOL_CONTROL_HEARTBEAT, POOL_CONTROL_SLOTS, type PoolWorkerData, type PoolWorkerReady } from './pool-worker.js';
import { WORKER_POOL_DEFAULTS, type WorkerPoolConfig } from './worker-pool-config.js';
import { WorkerPoolError } from './worker-pool-error.js';
import { Lease, type WorkerLease } from './worker-lease.js';

export type { WorkerLease } from './worker-lease.js';

/** Options for `WorkerPool`: the shared tuning (see `WorkerPoolConfig`) plus what to run. */
export interface WorkerPoolOptions extends Partial<WorkerPoolConfig> {
  /** Engine name, in messages and in ErrorInfo metadata (`espeak-ng`, `pocketsphinx`). */
  name: string;
  /** Worker entry module; it reports through `poolWorkerContext()`. */
  workerUrl: URL;
  /** The engine's start data (structured-cloneable), read in the worker as `poolWorkerContext().data`. Default undefined. */
  workerData?: unknown;
  /** Problems that fail no call (a replacement worker that failed to start). Default: ignored. */
  onBackgroundError?: (error: WorkerPoolError) => void;
}

/** A snapshot for metrics, health and tests. */
export interface WorkerPoolStats {
  /** Configured workers. */
  workers: number;
  /** Workers loading their engine. */
  starting: number;
  /** Warm workers waiting for a call. */
  idle: number;
  /** Workers leased to a call or cleaning up after one. */
  busy: number;
  /** Workers that failed to start and wait for their next attempt. */
  down: number;
  /** Callers waiting for a worker. */
  queued: number;
  /** Workers terminated and replaced (crash, hang, a cancel not honoured in time) since start. */
  replaced: number;
  /** False when no worker can serve (all down) or the pool is stopped. */
  available: boolean;
  /** The latest start failure while not available; says how to fix it when the engine knows. */
  unavailableReason?: string;
}

type SlotState = 'new' | 'starting' | 'idle' | 'leased' | 'releasing' | 'down' | 'stopped';

interface Slot {
  index: number;
  state: SlotState;
  worker: Worker | undefined;
  control: Int32Array;
  lastBeat: number;
  /** Last sign of life from the worker (message or heartbeat), performance.now(). */
  lastProgressAt: number;
  lease: Lease | undefined;
  releaseDeadline: number;
  /** Start attempts that failed in a row. */
  failures: number;
  lastError: string | undefined;
  timer: NodeJS.Timeout | undefined;
}

interface Waiter {
  signal: AbortSignal | undefined;
  enqueuedAt: number;
  resolve: (lease: WorkerLease) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
}

/** See the module comment. */
export class WorkerPool {
  /** Engine name. */
  readonly name: string;
  private readonly config: WorkerPoolConfig;
  private readonly slots: Slot[] = [];
  private readonly queue: Waiter[] = [];
  private stopped = false;
  private replaced = 0;
  private ticker: NodeJS.Timeout | undefined;
  /** Watchdog period, in ms: a fraction of the shortest timeout it enforces. */
  private readonly tickMs: number;
  private lastTickAt = 0;
  private initial: { pending: number; ready?: PoolWorkerReady; resolve: (r: PoolWorkerReady) => void; reject: (e: unknown) => void } | undefined;

  /** @param options see `WorkerPoolOptions`; nothing starts before `start()` */
  constructor(private readonly options: WorkerPoolOptions) {
    this.name = options.name;
    const config: WorkerPoolConfig = { workers: 1, ...WORKER_POOL_DEFAULTS };
    for (const [key, value] of Object.entries(options))
      if (key in config && value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
    if (!Number.isInteger(config.workers) || config.workers < 1)
      throw new RangeError(`${this.name}: workers must be an integer >= 1, got ${config.workers}`);
    this.config = config;
    this.tickMs = Math.max(20, Math.min(500, config.hungTimeoutMs / 4, config.idleTimeoutMs / 4, config.cancelGraceMs / 2));
  }

  /**
   * Starts every worker and resolves with the first one's ready message when all are warm. Rejects with an
   * `unavailable` WorkerPoolError when a worker fails its first start; the pool keeps retrying it in the
   * background until `stop()`.
   */
  start(): Promise<PoolWorkerReady> {
    if (this.initial || this.slots.length > 0) return Promise.reject(new Error(`${this.name}: start() called twice`));
    if (this.stopped) return Promise.reject(this.stoppedError());
    return new Promise<PoolWorkerReady>((resolve, reject) => {
      this.initial = { pending: this.config.workers, resolve, reject };
      for (let i = 0; i < this.config.workers; i++) {
        const control = new Int32Array(new SharedArrayBuffer(POOL_CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT));
        this.slots.push({
          index: i,
          state: 'new',
          worker: undefined,
          control,
          lastBeat: 0,
          lastProgressAt: 0,
          lease: undefined,
          releaseDeadline: 0,
          failures: 0,
          lastError: undefined,
          timer: undefined,
        });
      }
      this.lastTickAt = performance.now();
      this.ticker = setInterval(() => this.tick(), this.tickMs);
      this.ticker.unref();
      for (const slot of this.slots) this.spawn(slot);
    });
  }

  /**
   * Leases a worker, waiting up to `queueTimeoutMs` when all are busy. Rejects with a WorkerPoolError
   * (`queue_full`, `queue_timeout`, `unavailable`, `stopped`) or with `signal.reason` when the signal fires first.
   */
  acquire(signal?: AbortSignal): Promise<WorkerLease> {
    if (this.stopped) return Promise.reject(this.stoppedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!this.slots.some(live)) return Promise.reject(this.unavailableError());
    if (this.queue.length === 0) {
      const idle = this.slots.find((s) => s.state === 'idle');
      if (idle) return Promise.resolve(this.grant(idle, 0));
    }
    if (this.queue.length >= this.config.queueMax) {
      return Promise.reject(
        new WorkerPoolError(
          'queue_full',
          this.name,
          `all ${this.config.workers} ${this.name} workers are busy and ${this.queue.length} callers are already waiting; retry later`,
        ),
      );
    }
    return new Promise<WorkerLease>((resolve, reject) => {
      const waiter: Waiter = { signal, enqueuedAt: performance.now(), resolve, reject, cleanup: () => undefined };
      const leave = (error: unknown) => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        waiter.cleanup();
        reject(error);
      };
      const timer = setTimeout(
        () =>
          leave(
            new WorkerPoolError('queue_timeout', this.name, `all ${this.name} workers stayed busy for ${this.config.queueTimeoutMs} ms; retry later`),
          ),
        this.config.queueTimeoutMs,
      );
      const onAbort = () => leave(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.queue.push(waiter);
    });
  }

  /** Current numbers. */
  stats(): WorkerPoolStats {
    const count = (state: SlotState) => this.slots.filter((s) => s.state === state).length;
    const available = !this.stopped && this.slots.some(live);
    const reason = available ? undefined : this.stopped ? `${this.name} is stopped` : this.slots.find((s) => s.lastError)?.lastError;
    return {
      workers: this.config.workers,
      starting: count('starting'),
      idle: count('idle'),
      busy: count('leased') + count('releasing'),
      down: count('down'),
      queued: this.queue.length,
      replaced: this.replaced,
      available,
      ...(reason === undefined ? {} : { unavailableReason: reason }),
    };
  }

  /** Terminates every worker and timer. Waiting callers and current leases fail with `stopped`. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    const error = this.stoppedError();
    this.initial?.reject(error);
    this.initial = undefined;
    for (const waiter of this.queue.splice(0)) {
      waiter.cleanup();
      waiter.reject(error);
    }
    const exits: Promise<unknown>[] = [];
    for (const slot of this.slots) {
      clearTimeout(slot.timer);
      const lease = slot.lease;
      slot.lease = undefined;
      slot.state = 'stopped';
      if (slot.worker) exits.push(slot.worker.terminate());
      slot.worker = undefined;
      if (lease && !lease.released) lease.lose(error);
    }
    await Promise.allSettled(exits);
  }

  /** Lease bookkeeping when the holder gives the worker back; see `WorkerLease.release`. */
  private released(slot: Slot, lease: Lease, settled: Promise<unknown> | undefined): void {
    if (slot.lease !== lease || slot.state !== 'leased') return;
    if (!settled) {
      this.handOn(slot);
      return;
    }
    slot.state = 'releasing';
    slot.releaseDeadline = performance.now() + this.config.cancelGraceMs;
    settled.then(
      () => {
        if (slot.lease === lease && slot.state === 'releasing') this.handOn(slot);
      },
      (error: unknown) => {
        if (slot.lease === lease && slot.state === 'releasing') this.replaceWorker(slot, undefined, error);
      },
    );
  }

  private handOn(slot: Slot): void {
    slot.lease = undefined;
    slot.state = 'idle';
    this.dispatch();
  }

  private grant(slot: Slot, queueWaitMs: number): Lease {
    Atomics.store(slot.control, POOL_CONTROL_ABORT, 0);
    const lease = new Lease(this.name, slot, queueWaitMs, (l, settled) => this.released(slot, l, settled));
    slot.lease = lease;
    slot.state = 'leased';
    return lease;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => s.state === 'idle');
      if (!slot) return;
      const waiter = this.queue.shift()!;
      waiter.cleanup();
      waiter.resolve(this.grant(slot, performance.now() - waiter.enqueuedAt));
    }
  }

  private spawn(slot: Slot): void {
    slot.timer = undefined;
    if (this.stopped) return;
    slot.state = 'starting';
    Atomics.store(slot.control, POOL_CONTROL_HEARTBEAT, 0);
    Atomics.store(slot.control, POOL_CONTROL_ABORT, 0);
    slot.lastBeat = 0;
    const workerData: PoolWorkerData = { control: slot.control.buffer as SharedArrayBuffer, data: this.options.workerData };
    let worker: Worker;
    try {
      worker = spawnModuleWorker(this.options.workerUrl, { workerData });
    } catch (error) {
      this.startFailed(slot, undefined, error instanceof Error ? error.message : String(error));
      return;
    }
    slot.worker = worker;
    slot.timer = setTimeout(
      () => this.startFailed(slot, worker, `a worker did not become ready within ${this.config.startTimeoutMs} ms`),
      this.config.startTimeoutMs,
    );
    slot.timer.unref();
    worker.on('message', (message: { type?: string; message?: string }) => {
      if (slot.worker !== worker) return;
      if (slot.state === 'starting') {
        if (message?.type === 'ready') this.started(slot, message as PoolWorkerReady);
        else if (message?.type === 'init-error') this.startFailed(slot, worker, String(message.message));
        return;
      }
      slot.lastProgressAt = performance.now();
      slot.lease?.onMessage(message);
    });
    worker.on('error', (error) => this.workerGone(slot, worker, error.message, error));
    worker.on('exit', (code) => this.workerGone(slot, worker, `a worker exited with code ${code}`, undefined));
  }

  private started(slot: Slot, ready: PoolWorkerReady): void {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.failures = 0;
    slot.lastError = undefined;
    slot.state = 'idle';
    const initial = this.initial;
    if (initial) {
      initial.ready ??= ready;
      if (--initial.pending === 0) {
        this.initial = undefined;
        initial.resolve(initial.ready);
      }
    }
    this.dispatch();
  }

  private startFailed(slot: Slot, worker: Worker | undefined, detail: string): void {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    if (worker) void worker.terminate();
    slot.worker = undefined;
    if (this.stopped) return;
    slot.state = 'down';
    slot.failures++;
    slot.lastError = detail;
    const error = new WorkerPoolError('unavailable', this.name, `${this.name} is unavailable: ${detail}`);
    if (this.initial) {
      this.initial.reject(error);
      this.initial = undefined;
    } else {
      this.options.onBackgroundError?.(error);
    }
    if (!this.slots.some(live)) {
      for (const waiter of this.queue.splice(0)) {
        waiter.cleanup();
        waiter.reject(error);
      }
    }
    const delay = Math.min(this.config.respawnMaxDelayMs, this.config.respawnDelayMs * 2 ** Math.min(30, slot.failures - 1));
    slot.timer = setTimeout(() => this.spawn(slot), delay);
    slot.timer.unref();
  }

  private workerGone(slot: Slot, worker: Worker, detail: string, cause: unknown): void {
    if (slot.worker !== worker) return;
    if (slot.state === 'starting') {
      this.startFailed(slot, worker, detail);
      return;
    }
    this.replaceWorker(
      slot,
      new WorkerPoolError(
        'crashed',
        this.name,
        `the ${this.name} worker serving this call failed and has been replaced; retry`,
        cause ?? new Error(detail),
      ),
    );
  }

  /** Terminates the slot's worker, fails its lease with `error` (when given) and starts a replacement at once. */
  private replaceWorker(slot: Slot, error: WorkerPoolError | undefined, cause?: unknown): void {
    const worker = slot.worker;
    slot.worker = undefined;
    if (worker) void worker.terminate();
    const lease = slot.lease;
    slot.lease = undefined;
    this.replaced++;
    if (lease && !lease.released && error) lease.lose(error);
    if (cause !== undefined)
      this.options.onBackgroundError?.(
        new WorkerPoolError('crashed', this.name, `${this.name}: a worker failed to clean up after a call and was replaced`, cause),
      );
    this.spawn(slot);
  }

  /** The watchdogs: hung workers, idle holders, and clean-ups that take too long. */
  private tick(): void {
    const now = performance.now();
    // A main thread that stalled (GC, a busy machine) saw nothing meanwhile: replies may be queued unread. Do not
    // count the blind time against workers or holders.
    const blindMs = now - this.lastTickAt - 2 * this.tickMs;
    this.lastTickAt = now;
    for (const slot of this.slots) {
      const lease = slot.lease;
      if (!lease) continue;
      if (blindMs > 0) {
        slot.lastProgressAt += blindMs;
        slot.releaseDeadline += blindMs;
        lease.waitingSince += blindMs;
        lease.lostAt += blindMs;
      }
      const beat = Atomics.load(slot.control, POOL_CONTROL_HEARTBEAT);
      if (beat !== slot.lastBeat) {
        slot.lastBeat = beat;
        slot.lastProgressAt = now;
      }
      if (slot.state === 'releasing') {
        if (now > slot.releaseDeadline) this.replaceWorker(slot, undefined);
        continue;
      }
      if (lease.lost) {
        // Lost for idleness: the holder had `cancelGraceMs` to stop the worker and release it.
        if (now - lease.lostAt > this.config.cancelGraceMs) this.replaceWorker(slot, undefined);
        continue;
      }
      if (lease.waiting === 'worker') {
        if (now - Math.max(slot.lastProgressAt, lease.waitingSince) > this.config.hungTimeoutMs) {
          this.replaceWorker(
            slot,
            new WorkerPoolError('hung', this.name, `the ${this.name} worker serving this call stopped making progress and has been replaced; retry`),
          );
        }
      } else if (now - lease.waitingSince > this.config.idleTimeoutMs) {
        lease.lose(
          new WorkerPoolError(
            'idle',
            this.name,
            `this call held a ${this.name} worker without reading or sending for more than ${this.config.idleTimeoutMs} ms and lost it; keep reading and sending without long pauses`,
          ),
        );
      }
    }
  }

  private stoppedError(): WorkerPoolError {
    return new WorkerPoolError('stopped', this.name, `${this.name} is shutting down; retry on another instance`);
  }

  private unavailableError(): WorkerPoolError {
    const detail = this.slots.find((s) => s.lastError)?.lastError ?? 'it has not been started';
    return new WorkerPoolError('unavailable', this.name, `${this.name} is unavailable: ${detail}`);
  }
}

/** A slot that serves or will soon: warm, busy, or (re)starting after a crash, but not retrying a failed start. */
function live(slot: Slot): boolean {
  return slot.state === 'idle' || slot.state === 'leased' || slot.state === 'releasing' || (slot.state === 'starting' && slot.failures === 0);
}
