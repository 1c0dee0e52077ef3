/**
 * One synthesis on a leased worker. Chunks go to the caller's `onChunk` in order. While the caller keeps up, or
 * while its backlog fits its share of a bounded buffer, every chunk is acknowledged at once and the synthesiser runs
 * to the end, so the worker is released as soon as the audio exists and a paused reader holds memory (bounded), not
 * a worker. Only a reader that falls further behind than the buffer pauses the synthesiser, and only while fewer
 * than `maxPausedWorkers` of the engine's workers are paused so; past that cap the call fails at once. A paused
 * lease waits for its holder, and the pool's idle watchdog takes the worker back after `idleTimeoutMs`.
 */

import { CONTROL_ACKED, CONTROL_CANCEL, CONTROL_SLOTS, type FromWorkerMessage, type ToWorkerMessage } from './synthesis-worker-protocol.js';
import type { WorkerLease } from './worker-pool/worker-pool.js';
import { WorkerPoolError } from './worker-pool/worker-pool-error.js';

/** What an engine spends on readers that are behind, shared by its calls: buffered bytes and paused workers. */
export class SynthesisBuffer {
  private used = 0;
  /** Workers paused now for a reader further behind than its buffer. */
  pausedWorkers = 0;

  /**
   * @param maxBytes undelivered audio for all calls together, in bytes
   * @param maxPausedWorkers workers that may be paused for readers at once
   */
  constructor(
    readonly maxBytes: number,
    readonly maxPausedWorkers: number,
  ) {}

  /** Takes `bytes` if they fit; true when taken. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }

  /** Gives `bytes` back. */
  give(bytes: number): void {
    this.used -= bytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.used;
  }
}

/** What a job needs besides its lease. */
export interface SynthesisJobOptions {
  /** Engine name, for messages. */
  engine: string;
  /** The worker's request object. */
  request: unknown;
  /** Cancels the job; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Receives chunks in order; a returned promise holds back later chunks, a rejection cancels the job. */
  onChunk: (samples: Int16Array) => void | Promise<void>;
  /** Unacknowledged chunks at which the synthesiser pauses. */
  maxChunksInFlight: number;
  /** Undelivered audio this call may buffer, in bytes. */
  bufferBytesPerCall: number;
  /** The engine's shared buffer and paused-worker count. */
  buffer: SynthesisBuffer;
}

/** How a job ended, for the engine's counters. */
export type SynthesisOutcome = 'completed' | 'cancelled' | 'failed';

/** Result of a successful job. */
export interface SynthesisJobResult {
  /** Samples delivered. */
  sampleCount: number;
  /** From dispatch to the last delivered chunk, in ms. */
  synthesisMs: number;
}

let nextJobId = 1;

/**
 * Runs `options.request` on `lease` and releases the lease when the worker is done (or cancelled). `onOutcome` is
 * called exactly once, when the promise settles.
 */
export function runSynthesisJob(
  lease: WorkerLease,
  options: SynthesisJobOptions,
  onOutcome: (outcome: SynthesisOutcome) => void,
): Promise<SynthesisJobResult> {
  const { signal, onChunk, maxChunksInFlight, bufferBytesPerCall, buffer } = options;
  const jobId = nextJobId++;
  const sab = new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
  const control = new Int32Array(sab);
  const startedAt = performance.now();
  let received = 0;
  let acked = 0;
  let sampleCount = 0;
  /** Bytes acknowledged before delivery and not yet delivered: this call's share of `buffer`. */
  let buffered = 0;
  let chain: Promise<void> = Promise.resolve();
  let workerDone = false;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  let cancelReason: unknown;
  let settled = false;
  /** True while this job counts in `buffer.pausedWorkers`. */
  let paused = false;

  return new Promise<SynthesisJobResult>((resolve, reject) => {
    const finish = (error: unknown, outcome: SynthesisOutcome): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      buffer.give(buffered);
      buffered = 0;
      setPaused(false);
      onOutcome(outcome);
      if (outcome === 'completed') resolve({ sampleCount, synthesisMs: performance.now() - startedAt });
      else reject(error);
    };

    const setPaused = (on: boolean): void => {
      if (on === paused) return;
      paused = on;
      buffer.pausedWorkers += on ? 1 : -1;
      if (!on && !workerDone) lease.waitingOn('worker');
    };

    const ack = (): void => {
      acked++;
      Atomics.add(control, CONTROL_ACKED, 1);
      Atomics.notify(control, CONTROL_ACKED);
      if (received - acked < maxChunksInFlight) setPaused(false);
    };

    /** Stops the synthesis for `reason`; the worker is handed on once it has noticed (or replaced after the grace). */
    const cancel = (reason: unknown, outcome: SynthesisOutcome): void => {
      if (cancelReason !== undefined || settled) return;
      cancelReason = reason;
      Atomics.store(control, CONTROL_CANCEL, 1);
      Atomics.notify(control, CONTROL_ACKED); // wakes a worker paused for backpressure
      lease.release(workerDone ? undefined : done);
      finish(reason, outcome);
    };

    const onAbort = (): void => cancel(signal!.reason, 'cancelled');

    lease.onMessage = (raw) => {
      const message = raw as FromWorkerMessage;
      if (message.jobId !== jobId) return;
      if (message.type === 'chunk') {
        received++;
        if (cancelReason !== undefined || settled) {
          ack();
          return;
        }
        const samples = message.samples;
        const bytes = samples.byteLength;
        sampleCount += samples.length;
        // Acknowledge at once while the backlog fits the buffer: the synthesiser runs on and frees the worker.
        const early = buffered + bytes <= bufferBytesPerCall && buffer.take(bytes);
        if (early) {
          buffered += bytes;
          ack();
        } else if (received - acked >= maxChunksInFlight && !paused && !workerDone) {
          // The synthesiser pauses for this reader (it is not hung). Only so many workers may wait for readers.
          if (buffer.pausedWorkers >= buffer.maxPausedWorkers) {
            const behind = new WorkerPoolError(
              'idle',
              options.engine,
              `this stream's reader fell more than ${bufferBytesPerCall} bytes of audio behind while other slow readers already hold ${options.engine} workers; read faster or request shorter text`,
            );
            queueMicrotask(() => cancel(behind, 'failed'));
          } else {
            setPaused(true);
            lease.waitingOn('holder');
          }
        }
        chain = chain
          .then(() => (settled ? undefined : onChunk(samples)))
          .then(
            () => {
              if (early && !settled) {
                buffered -= bytes;
                buffer.give(bytes);
              }
              if (!early) ack();
            },
            (error: unknown) => {
              // The consumer is gone (client cancelled, stream broke): stop synthesising for it.
              if (!early) ack();
              cancel(error, 'cancelled');
            },
          );
        return;
      }
      // 'done' or 'error': the worker has finished with this job.
      workerDone = true;
      setPaused(false);
      resolveDone();
      lease.release();
      if (message.type === 'error') {
        finish(
          new WorkerPoolError('failed', options.engine, `${options.engine} could not synthesise this text`, new Error(message.message)),
          'failed',
        );
        return;
      }
      // Deliver every buffered chunk before settling, so the caller sees all audio before the result.
      void chain.then(() => finish(cancelReason, cancelReason === undefined ? 'completed' : 'cancelled'));
    };

    lease.onLost = (error) => {
      // Idle: the worker is still ours, so stop it and hand it back. Crashed, hung, stopped: the worker is gone.
      if (error.kind === 'idle') cancel(error, 'failed');
      else finish(error, 'failed');
    };

    if (signal?.aborted) {
      lease.release();
      finish(signal.reason, 'cancelled');
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    const message: ToWorkerMessage = { type: 'synthesize', jobId, request: options.request, control: sab, maxChunksInFlight };
    lease.waitingOn('worker');
    try {
      lease.post(message);
    } catch (error) {
      finish(error, 'failed');
    }
  });
}
