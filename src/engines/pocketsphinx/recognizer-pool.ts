/**
 * PocketSphinx on the shared engine `WorkerPool`: one warm decoder per worker thread. A caller acquires a session
 * (a lease on one decoder, waiting in the pool's bounded queue when all are busy), feeds it 16 kHz audio, reads
 * interim and final results, and releases it; release resets the decoder before the pool hands it on. A caller's
 * AbortSignal (cancel or deadline) releases at once: the worker stops within one 2048-sample block.
 */

import { workerModuleUrl } from '../module-worker.js';
import { WorkerPool, type WorkerLease, type WorkerPoolStats } from '../worker-pool/worker-pool.js';
import type { WorkerPoolConfig } from '../worker-pool/worker-pool-config.js';
import { WorkerPoolError } from '../worker-pool/worker-pool-error.js';
import type { DecoderOptions } from './decoder.js';
import type { ProcessOutcome, SessionConfig, UtteranceResult } from './recognition-result.js';
import { RecognizerAbortedError, RecognizerRequestError } from './recognizer-errors.js';
import type { DecoderWorkerData, WorkerError, WorkerMessage, WorkerRequest, WorkerRequestBody, WorkerResult } from './worker-protocol.js';

/** Engine name in messages and ErrorInfo metadata. */
export const POCKETSPHINX_ENGINE_NAME = 'pocketsphinx';

/** How to build the pool: decoder options plus the shared pool tuning (`workers` defaults to 2). */
export interface RecognizerPoolOptions extends DecoderOptions, Partial<WorkerPoolConfig> {
  /** Decoder worker module; tests substitute one that can fail on demand. Default `decoder-worker`. */
  workerUrl?: URL;
  /** Problems that fail no call (a replacement decoder that failed to start). Default: ignored. */
  onBackgroundError?: (error: Error) => void;
}

/** One caller's use of one decoder. Calls must be awaited in order; `release` may be called at any time, more than once. */
export interface RecognizerSession {
  /** Configures the session; call once, before `process`. Rejects with {@link RecognizerRequestError} for a bad grammar or unknown words. */
  begin(config: SessionConfig): Promise<void>;
  /** Feeds 16 kHz mono samples; resolves with the interim hypothesis, voice activity and any utterances that ended. */
  process(samples16k: Int16Array): Promise<ProcessOutcome>;
  /** Ends the audio and resolves with the final results of the utterance in progress. */
  finish(): Promise<UtteranceResult[]>;
  /** Resets the decoder and returns it to the pool; pending calls reject with {@link RecognizerAbortedError}. */
  release(): void;
  /** True once released or lost. */
  readonly released: boolean;
  /** Audio fed so far, in ms. */
  readonly audioMs: number;
  /** Time the decoder spent on this session's audio, in ms (for the real-time factor). */
  readonly decodeMs: number;
}

/** The pool. Every failure is a `WorkerPoolError` except the caller's own (request errors, its signal's reason). */
export interface RecognizerPool {
  /** Loads and warms every decoder; rejects with an `unavailable` WorkerPoolError naming the Debian package to install. */
  start(): Promise<void>;
  /** Gets a session, waiting in the pool's queue when all decoders are busy. When `signal` fires later, the session is released at once. */
  acquire(signal?: AbortSignal): Promise<RecognizerSession>;
  /** Current numbers. */
  stats(): WorkerPoolStats;
  /** Stops the workers; waiting callers and open sessions fail with `stopped`. */
  stop(): Promise<void>;
}

interface Pending {
  resolve: (r: WorkerResult) => void;
  reject: (e: unknown) => void;
}

function toError(e: WorkerError): Error {
  if (e.name === 'RecognizerRequestError') return new RecognizerRequestError(e.field ?? 'config', e.message);
  return new WorkerPoolError(
    'failed',
    POCKETSPHINX_ENGINE_NAME,
    'the speech decoder could not process this audio',
    new Error(`${e.name}: ${e.message}`),
  );
}

class LeasedSession implements RecognizerSession {
  released = false;
  audioMs = 0;
  decodeMs = 0;
  private begun = false;
  private lastInSpeech = false;
  private lost: WorkerPoolError | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private detach: (() => void) | undefined;
  private endReason: unknown;

  constructor(
    private readonly lease: WorkerLease,
    signal: AbortSignal | undefined,
  ) {
    lease.onMessage = (raw) => {
      const m = raw as WorkerMessage;
      if (m.type !== 'reply') return;
      const p = this.pending.get(m.seq);
      if (!p) return; // its caller has gone; the reply no longer matters
      this.pending.delete(m.seq);
      if (this.pending.size === 0) lease.waitingOn('holder');
      if (m.ok) p.resolve(m.result);
      else p.reject(toError(m.error));
    };
    lease.onLost = (error) => {
      this.lost = error;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      this.release();
    };
    if (signal?.aborted) this.end(signal.reason);
    else if (signal) {
      const onAbort = (): void => this.end(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.detach = () => signal.removeEventListener('abort', onAbort);
    }
  }

  private send(body: WorkerRequestBody, transfer: ArrayBuffer[] = []): Promise<WorkerResult> {
    const seq = ++this.seq;
    return new Promise<WorkerResult>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.lease.waitingOn('worker');
      try {
        this.lease.post({ ...body, seq } as WorkerRequest, transfer);
      } catch (error) {
        this.pending.delete(seq);
        reject(error);
      }
    });
  }

  private request(body: WorkerRequestBody, transfer?: ArrayBuffer[]): Promise<WorkerResult> {
    if (this.lost) return Promise.reject(this.lost);
    if (this.released) return Promise.reject(this.endReason ?? new RecognizerAbortedError());
    return this.send(body, transfer);
  }

  async begin(config: SessionConfig): Promise<void> {
    await this.request({ op: 'begin', config });
    this.begun = true;
  }

  async process(samples16k: Int16Array): Promise<ProcessOutcome> {
    if (!this.begun) throw new Error('RecognizerSession.process() before begin()');
    if (samples16k.length === 0) return { inSpeech: this.lastInSpeech, finals: [], decodeMs: 0 };
    // Copy so the caller's buffer (maybe a slice of a pooled Buffer) is never detached by the transfer.
    const copy = samples16k.slice();
    this.audioMs += (copy.length / 16000) * 1000;
    const r = await this.request({ op: 'process', samples: copy }, [copy.buffer as ArrayBuffer]);
    if (r.op !== 'process') throw new Error('decoder worker answered out of order');
    this.decodeMs += r.outcome.decodeMs;
    if (r.aborted) throw new RecognizerAbortedError();
    this.lastInSpeech = r.outcome.inSpeech;
    return r.outcome;
  }

  async finish(): Promise<UtteranceResult[]> {
    if (!this.begun) throw new Error('RecognizerSession.finish() before begin()');
    const r = await this.request({ op: 'finish' });
    if (r.op !== 'finish') throw new Error('decoder worker answered out of order');
    this.decodeMs += r.decodeMs;
    return r.finals;
  }

  release(): void {
    this.end(undefined);
  }

  /** Releases; pending and later calls reject with `reason` (the signal's), else with RecognizerAbortedError. */
  private end(reason: unknown): void {
    if (this.released) return;
    this.released = true;
    this.endReason = reason;
    this.detach?.();
    this.detach = undefined;
    const cutShort = this.pending.size > 0;
    for (const p of this.pending.values()) p.reject(reason ?? new RecognizerAbortedError());
    this.pending.clear();
    if (this.lost && this.lost.kind !== 'idle') return; // the worker is gone; nothing to reset
    // Cut the block in progress short, then reset: the decoder goes to the next caller clean.
    if (cutShort) this.lease.abortWork();
    this.lease.release(this.send({ op: 'reset' }));
  }
}

/** Creates the pool; `start()` loads and warms the decoders. */
export function createRecognizerPool(options: RecognizerPoolOptions = {}): RecognizerPool {
  const { workerUrl, modelDir, endSilenceMs, libraries, ...poolOptions } = options;
  const workerData: DecoderWorkerData = { decoder: { modelDir, endSilenceMs, libraries } };
  const pool = new WorkerPool({
    workers: 2,
    ...poolOptions,
    name: POCKETSPHINX_ENGINE_NAME,
    workerUrl: workerUrl ?? workerModuleUrl('decoder-worker', import.meta.url),
    workerData,
  });
  return {
    async start() {
      await pool.start();
    },
    async acquire(signal) {
      return new LeasedSession(await pool.acquire(signal), signal);
    },
    stats: () => pool.stats(),
    stop: () => pool.stop(),
  };
}
