/**
 * A fixed-size pool of worker threads, each running one synchronous synthesiser (see `synthesis-worker-runtime.ts`).
 * Jobs queue FIFO for a free worker. The pool is what makes an engine safe to host: a job's AbortSignal stops it, a
 * slow consumer pauses it, and a worker that crashes or stops making progress is terminated and replaced, failing
 * only the job it was running.
 */

import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from './module-worker.js';
import { CONTROL_ACKED, CONTROL_CANCEL, CONTROL_SLOTS, type FromWorkerMessage, type ToWorkerMessage, type WorkerVoice } from './synthesis-worker-protocol.js';
import { SynthesisEngineError } from './synthesis-engine-error.js';
import type { EngineStats } from './tts-engine.js';

/** Options for `SynthesisWorkerPool`. */
export interface SynthesisWorkerPoolOptions {
  /** Engine name, used in error messages. */
  name: string;
  /** Worker entry module (a file calling `serveSynthesisBackend`). */
  workerUrl: URL;
  /** Passed to the worker as `workerData`. Default undefined. */
  workerData?: unknown;
  /** Worker threads, each with its own synthesiser instance. Required, at least 1. */
  size: number;
  /** Jobs allowed to wait for a worker; more fail as `overloaded`. Default 64. */
  maxQueuedJobs?: number;
  /** A running job that produces nothing for this long (while not paused by its consumer) is declared hung, in ms. Default 10000. */
  hungTimeoutMs?: number;
  /** After a cancel, how long the synthesiser gets to stop by itself before its worker is terminated, in ms. Default 1000. */
  cancelGraceMs?: number;
  /** How long a worker may take to load and warm up, in ms. Default 60000. */
  startTimeoutMs?: number;
  /** Unacknowledged chunks after which the synthesiser pauses (backpressure). Default 4. */
  maxChunksInFlight?: number;
  /** Called with problems that fail no call (a replacement worker that failed to start). Default: ignored. */
  onBackgroundError?: (error: Error) => void;
}

/** Per-call options of `SynthesisWorkerPool.run`. */
export interface PoolRunOptions {
  /** Cancels the job; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Receives chunks in order; see `SynthesisCallOptions.onChunk`. */
  onChunk: (samples: Int16Array) => void | Promise<void>;
}

/** Result of `SynthesisWorkerPool.run`. */
export interface PoolRunResult {
  /** Samples delivered. */
  sampleCount: number;
  /** Wait for a worker, in ms. */
  queueWaitMs: number;
  /** From dispatch to completion, in ms. */
  synthesisMs: number;
}

/** What the workers reported when they became ready. */
export interface PoolReady {
  /** Voices (from the first worker; all workers run the same backend). */
  voices: WorkerVoice[];
  /** Rate of the samples the backend emits, in Hz. */
  sampleRateHz: number;
}

interface Job {
  request: unknown;
  options: PoolRunOptions;
  enqueuedAt: number;
  resolve: (result: PoolRunResult) => void;
  reject: (error: unknown) => void;
  detachAbort: () => void;
}

interface ActiveJob extends Job {
  jobId: number;
  control: Int32Array;
  startedAt: number;
  /** Chunks received from the worker / handed back as consumed. */
  received: number;
  acked: number;
  sampleCount: number;
  lastProgressAt: number;
  /** Delivery of chunks to the consumer, in order. */
  chain: Promise<void>;
  /** Set once a cancel was requested: the reason the job will reject with. */
  cancelReason?: unknown;
  cancelAt?: number;
  watchdog: NodeJS.Timeout;
  settled: boolean;
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  state: 'starting' | 'idle' | 'busy' | 'stopped';
  job: ActiveJob | undefined;
}

/** See the module comment. */
export class SynthesisWorkerPool {
  private readonly options: Required<Omit<SynthesisWorkerPoolOptions, 'workerData' | 'onBackgroundError'>> &
    Pick<SynthesisWorkerPoolOptions, 'workerData' | 'onBackgroundError'>;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextJobId = 1;
  private stopped = false;
  private readyInfo: PoolReady | undefined;
  private readonly counters = { started: 0, completed: 0, cancelled: 0, failed: 0, replaced: 0 };

  /** @param options see `SynthesisWorkerPoolOptions` */
  constructor(options: SynthesisWorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`${options.name}: pool size must be >= 1, got ${options.size}`);
    this.options = {
      maxQueuedJobs: 64,
      hungTimeoutMs: 10_000,
      cancelGraceMs: 1_000,
      startTimeoutMs: 60_000,
      maxChunksInFlight: 4,
      ...options,
    };
  }

  /** Starts every worker and waits until all are warm. Rejects (and stops the pool) if any fails. */
  async start(): Promise<PoolReady> {
    const starts: Promise<PoolReady>[] = [];
    for (let i = 0; i < this.options.size; i++) {
      const slot: Slot = { index: i, worker: undefined, state: 'starting', job: undefined };
      this.slots.push(slot);
      starts.push(this.spawn(slot));
    }
    try {
      const ready = await Promise.all(starts);
      this.readyInfo = ready[0]!;
      return this.readyInfo;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Runs one job; see `PoolRunOptions`. Rejects with `SynthesisEngineError` or the signal's reason. */
  run(request: unknown, options: PoolRunOptions): Promise<PoolRunResult> {
    if (this.stopped) return Promise.reject(new SynthesisEngineError('stopped', `${this.options.name} is stopped`));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.queue.length >= this.options.maxQueuedJobs && !this.slots.some((s) => s.state === 'idle')) {
      return Promise.reject(new SynthesisEngineError('overloaded', `${this.options.name}: ${this.queue.length} jobs already waiting`));
    }
    return new Promise<PoolRunResult>((resolve, reject) => {
      const job: Job = { request, options, enqueuedAt: performance.now(), resolve, reject, detachAbort: () => undefined };
      if (signal) {
        const onAbort = () => this.abortJob(job, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        job.detachAbort = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Counters; see `EngineStats`. */
  stats(): EngineStats {
    return {
      workers: this.options.size,
      busy: this.slots.filter((s) => s.state === 'busy').length,
      queued: this.queue.length,
      ...this.counters,
    };
  }

  /** Terminates all workers. Queued and running jobs reject with `stopped`. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    const error = new SynthesisEngineError('stopped', `${this.options.name} is stopping`);
    for (const job of this.queue.splice(0)) {
      job.detachAbort();
      job.reject(error);
    }
    const exits: Promise<unknown>[] = [];
    for (const slot of this.slots) {
      if (slot.job) this.settle(slot.job, error, false);
      slot.job = undefined;
      slot.state = 'stopped';
      if (slot.worker) exits.push(slot.worker.terminate());
      slot.worker = undefined;
    }
    await Promise.allSettled(exits);
  }

  private spawn(slot: Slot): Promise<PoolReady> {
    const worker = spawnModuleWorker(this.options.workerUrl, { workerData: this.options.workerData });
    slot.worker = worker;
    slot.state = 'starting';
    return new Promise<PoolReady>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        if (ready) return;
        fail(new Error(`${this.options.name}: worker ${slot.index} did not become ready within ${this.options.startTimeoutMs} ms`));
      }, this.options.startTimeoutMs);
      timer.unref();
      const fail = (error: Error) => {
        clearTimeout(timer);
        if (slot.worker === worker) {
          slot.worker = undefined;
          void worker.terminate();
        }
        reject(error);
      };
      worker.on('message', (message: FromWorkerMessage) => {
        if (slot.worker !== worker) return;
        if (!ready) {
          if (message.type === 'ready') {
            ready = true;
            clearTimeout(timer);
            slot.state = this.stopped ? 'stopped' : 'idle';
            resolve({ voices: message.voices, sampleRateHz: message.sampleRateHz });
            this.dispatch();
          } else if (message.type === 'init-error') {
            fail(new Error(`${this.options.name}: worker ${slot.index} failed to start: ${message.message}`));
          }
          return;
        }
        this.onMessage(slot, message);
      });
      worker.on('error', (error) => {
        if (slot.worker !== worker) return;
        if (!ready) fail(new Error(`${this.options.name}: worker ${slot.index} failed to start: ${error.message}`));
        else this.replace(slot, new SynthesisEngineError('crashed', `${this.options.name}: worker ${slot.index} crashed: ${error.message}`, { cause: error }));
      });
      worker.on('exit', (code) => {
        if (slot.worker !== worker) return;
        if (!ready) fail(new Error(`${this.options.name}: worker ${slot.index} exited with code ${code} while starting`));
        else this.replace(slot, new SynthesisEngineError('crashed', `${this.options.name}: worker ${slot.index} exited with code ${code}`));
      });
    });
  }

  /** Terminates the slot's worker (if still running), fails its job with `error`, and starts a replacement. */
  private replace(slot: Slot, error: unknown): void {
    const worker = slot.worker;
    slot.worker = undefined;
    if (worker) void worker.terminate();
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      // A cancelled job whose worker had to be killed still ends as cancelled, not as a failure.
      if (job.cancelReason !== undefined) this.settle(job, job.cancelReason, false);
      else this.settle(job, error, false);
    }
    if (this.stopped) {
      slot.state = 'stopped';
      return;
    }
    this.counters.replaced++;
    this.spawn(slot).catch((startError: Error) => {
      // The pool runs one worker short; try again shortly rather than spinning.
      this.options.onBackgroundError?.(startError);
      if (!this.stopped) setTimeout(() => this.replaceIfEmpty(slot), 1000).unref();
    });
  }

  private replaceIfEmpty(slot: Slot): void {
    if (this.stopped || slot.worker) return;
    this.spawn(slot).catch((error: Error) => {
      this.options.onBackgroundError?.(error);
      if (!this.stopped) setTimeout(() => this.replaceIfEmpty(slot), 5000).unref();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.state !== 'idle' || !slot.worker) continue;
      const job = this.queue.shift()!;
      this.startJob(slot, job);
    }
  }

  private startJob(slot: Slot, job: Job): void {
    const sab = new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const now = performance.now();
    const active: ActiveJob = {
      ...job,
      jobId: this.nextJobId++,
      control: new Int32Array(sab),
      startedAt: now,
      received: 0,
      acked: 0,
      sampleCount: 0,
      lastProgressAt: now,
      chain: Promise.resolve(),
      watchdog: setInterval(() => this.watch(slot, active), Math.max(20, Math.min(500, this.options.hungTimeoutMs / 4, this.options.cancelGraceMs / 2))),
      settled: false,
    };
    active.watchdog.unref();
    slot.job = active;
    slot.state = 'busy';
    this.counters.started++;
    const message: ToWorkerMessage = {
      type: 'synthesize',
      jobId: active.jobId,
      request: job.request,
      control: sab,
      maxChunksInFlight: this.options.maxChunksInFlight,
    };
    slot.worker!.postMessage(message);
  }

  private onMessage(slot: Slot, message: FromWorkerMessage): void {
    const job = slot.job;
    if (!job || !('jobId' in message) || message.jobId !== job.jobId) return;
    job.lastProgressAt = performance.now();
    switch (message.type) {
      case 'chunk': {
        job.received++;
        if (job.cancelReason !== undefined) {
          this.ack(job);
          return;
        }
        const samples = message.samples;
        job.sampleCount += samples.length;
        job.chain = job.chain
          .then(() => (job.cancelReason === undefined ? job.options.onChunk(samples) : undefined))
          .then(
            () => this.ack(job),
            (error: unknown) => {
              // The consumer is gone (client cancelled, stream broke): stop synthesising for it.
              this.ack(job);
              this.requestCancel(job, error);
            },
          );
        return;
      }
      case 'done':
      case 'error': {
        slot.job = undefined;
        slot.state = this.stopped ? 'stopped' : 'idle';
        const outcome =
          message.type === 'error'
            ? new SynthesisEngineError('failed', `${this.options.name}: ${message.message}`)
            : undefined;
        // Deliver every chunk already received before settling, so the caller sees all audio before the result.
        void job.chain.then(() => this.settle(job, job.cancelReason ?? outcome, message.type === 'done' && job.cancelReason === undefined));
        this.dispatch();
        return;
      }
      default:
        return;
    }
  }

  private ack(job: ActiveJob): void {
    job.acked++;
    job.lastProgressAt = performance.now();
    Atomics.add(job.control, CONTROL_ACKED, 1);
    Atomics.notify(job.control, CONTROL_ACKED);
  }

  private requestCancel(job: ActiveJob, reason: unknown): void {
    if (job.cancelReason !== undefined || job.settled) return;
    job.cancelReason = reason;
    job.cancelAt = performance.now();
    Atomics.store(job.control, CONTROL_CANCEL, 1);
    Atomics.notify(job.control, CONTROL_ACKED); // wake a worker paused for backpressure
  }

  private abortJob(job: Job, reason: unknown): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      job.detachAbort();
      this.counters.cancelled++;
      job.reject(reason);
      return;
    }
    const slot = this.slots.find((s) => s.job !== undefined && s.job.resolve === job.resolve);
    if (slot?.job) this.requestCancel(slot.job, reason);
  }

  private watch(slot: Slot, job: ActiveJob): void {
    if (job.settled || slot.job !== job) {
      clearInterval(job.watchdog);
      return;
    }
    const now = performance.now();
    if (job.cancelAt !== undefined) {
      if (now - job.cancelAt > this.options.cancelGraceMs) {
        this.replace(slot, job.cancelReason);
      }
      return;
    }
    // A worker paused because the consumer is behind is waiting on us, not hung.
    const pausedByConsumer = job.received - job.acked >= this.options.maxChunksInFlight;
    if (!pausedByConsumer && now - job.lastProgressAt > this.options.hungTimeoutMs) {
      this.replace(
        slot,
        new SynthesisEngineError('hung', `${this.options.name}: worker ${slot.index} made no progress for ${this.options.hungTimeoutMs} ms and was replaced`),
      );
    }
  }

  /** Resolves or rejects a job exactly once and updates the counters. `error` undefined means success. */
  private settle(job: ActiveJob, error: unknown, completed: boolean): void {
    if (job.settled) return;
    job.settled = true;
    clearInterval(job.watchdog);
    job.detachAbort();
    if (completed && error === undefined) {
      this.counters.completed++;
      job.resolve({
        sampleCount: job.sampleCount,
        queueWaitMs: job.startedAt - job.enqueuedAt,
        synthesisMs: performance.now() - job.startedAt,
      });
      return;
    }
    if (job.cancelReason !== undefined) this.counters.cancelled++;
    else this.counters.failed++;
    job.reject(error ?? new SynthesisEngineError('failed', `${this.options.name}: synthesis ended without result`));
  }
}
