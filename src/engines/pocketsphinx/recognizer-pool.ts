/**
 * A pool of warm PocketSphinx decoders, one per worker thread. Callers acquire a session (waiting in a bounded queue
 * when every decoder is busy), feed it 16 kHz audio, read interim and final results, and release it; release resets
 * the decoder and hands it to the next waiter. A caller's AbortSignal (cancel or deadline) releases at once: the
 * worker stops within one 2048-sample block (~128 ms of audio, a few ms of CPU).
 */

import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { DecoderOptions } from './decoder.js';
import type { ProcessOutcome, SessionConfig, UtteranceResult } from './recognition-result.js';
import { RecognizerAbortedError, RecognizerBusyError, RecognizerRequestError, RecognizerUnavailableError } from './recognizer-errors.js';
import type { DecoderWorkerData, WorkerError, WorkerMessage, WorkerRequest, WorkerRequestBody, WorkerResult } from './worker-protocol.js';

/** How to build the pool. */
export interface RecognizerPoolOptions extends DecoderOptions {
  /** Worker threads, each with one warm decoder (~95 MB of model); default 2. */
  workers?: number;
  /** Callers that may wait when every decoder is busy; one more fails at once with `queue_full`; default 16. */
  queueMax?: number;
  /** How long a caller waits for a decoder when `acquire` gets no timeout, in ms; default 5000. */
  queueTimeoutMs?: number;
  /** Time allowed for a worker to load and warm its decoder, in ms; default 60000. */
  startTimeoutMs?: number;
  /** Delay before a crashed worker is replaced, in ms; default 1000. */
  respawnDelayMs?: number;
}

/** A snapshot of the pool for metrics and health. */
export interface RecognizerPoolStats {
  /** Configured number of decoders. */
  size: number;
  /** Warm decoders serving or able to serve. */
  ready: number;
  /** Decoders held by a session or being reset. */
  busy: number;
  /** Warm decoders waiting for work. */
  idle: number;
  /** Callers waiting for a decoder. */
  queued: number;
  /** False when the engine cannot run here (see `unavailableReason`) or the pool is closed. */
  available: boolean;
  /** Why the engine is unavailable; names the Debian package to install when one is missing. */
  unavailableReason?: string;
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
  /** True once released. */
  readonly released: boolean;
  /** Audio fed so far, in ms. */
  readonly audioMs: number;
  /** Time the decoder spent on this session's audio, in ms (for the real-time factor). */
  readonly decodeMs: number;
}

/** The pool. */
export interface RecognizerPool {
  /** Resolves when every decoder is loaded and warm; rejects with {@link RecognizerUnavailableError} when the engine cannot run. */
  readonly ready: Promise<void>;
  /**
   * Gets a session. Waits up to `queueTimeoutMs` (default from options) when all decoders are busy. Rejects with
   * {@link RecognizerBusyError} (queue full or wait timed out), {@link RecognizerAbortedError} (signal fired) or
   * {@link RecognizerUnavailableError}. When `signal` fires later, the session is released at once.
   */
  acquire(signal?: AbortSignal, queueTimeoutMs?: number): Promise<RecognizerSession>;
  /** Current numbers. */
  stats(): RecognizerPoolStats;
  /** Stops the workers; waiting callers get {@link RecognizerUnavailableError}. */
  close(): Promise<void>;
}

/** Resolves the worker module next to this one, with this module's own extension (.ts under tsx, .js when compiled). */
function workerUrl(): URL {
  const ext = extname(fileURLToPath(import.meta.url)) || '.js';
  return new URL(`./decoder-worker${ext}`, import.meta.url);
}

/**
 * Starts a decoder worker. Node 20 resolves a worker's entry before the inherited `--import tsx` hooks are in place
 * ("Unknown file extension .ts"), so a TypeScript entry gets a small bootstrap that registers tsx first.
 */
function spawnDecoderWorker(workerData: DecoderWorkerData): Worker {
  const url = workerUrl();
  if (url.pathname.endsWith('.ts')) {
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    return new Worker(bootstrap, { eval: true, workerData });
  }
  return new Worker(url, { workerData });
}

interface Pending {
  resolve: (r: WorkerResult) => void;
  reject: (e: Error) => void;
  owner: SessionImpl | null;
}

type SlotState = 'starting' | 'idle' | 'busy' | 'dead';

function toError(e: WorkerError): Error {
  if (e.name === 'RecognizerRequestError') return new RecognizerRequestError(e.field ?? 'config', e.message);
  const err = new Error(`decoder worker: ${e.message}`);
  err.name = e.name;
  return err;
}

class DecoderSlot {
  state: SlotState = 'starting';
  /** Model load and warm-up times of the current worker, in ms (0 until ready). */
  loadMs = 0;
  warmUpMs = 0;
  session: SessionImpl | null = null;
  private worker: Worker | null = null;
  private readonly abortFlag = new Int32Array(new SharedArrayBuffer(4));
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private startTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: PoolImpl,
    private readonly options: RecognizerPoolOptions,
  ) {}

  start(): void {
    this.state = 'starting';
    const data: DecoderWorkerData = {
      decoder: { modelDir: this.options.modelDir, endSilenceMs: this.options.endSilenceMs, libraries: this.options.libraries },
      abortFlag: this.abortFlag.buffer as SharedArrayBuffer,
    };
    Atomics.store(this.abortFlag, 0, 0);
    const worker = spawnDecoderWorker(data);
    this.worker = worker;
    this.startTimer = setTimeout(() => {
      this.pool.slotUnavailable(this, `speech decoder did not start within ${this.options.startTimeoutMs ?? 60000} ms`);
      this.worker = null;
      this.state = 'dead';
      void worker.terminate();
    }, this.options.startTimeoutMs ?? 60000);
    // Events of a replaced worker must not touch its successor.
    worker.on('message', (m: WorkerMessage) => this.worker === worker && this.onMessage(m));
    worker.on('error', (err) => this.worker === worker && this.onExit(err));
    worker.on('exit', (code) => this.worker === worker && this.onExit(new Error(`decoder worker exited with code ${code}`)));
  }

  private clearStartTimer(): void {
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = null;
  }

  private onMessage(m: WorkerMessage): void {
    switch (m.type) {
      case 'ready':
        this.clearStartTimer();
        this.loadMs = m.loadMs;
        this.warmUpMs = m.warmUpMs;
        this.state = 'idle';
        this.pool.slotReady(this);
        return;
      case 'unavailable': {
        this.clearStartTimer();
        this.pool.slotUnavailable(this, m.message);
        const worker = this.worker;
        this.worker = null;
        this.state = 'dead';
        void worker?.terminate();
        return;
      }
      case 'reply': {
        const p = this.pending.get(m.seq);
        if (!p) return; // its session was released; the reply no longer matters
        this.pending.delete(m.seq);
        if (m.ok) p.resolve(m.result);
        else p.reject(toError(m.error));
        return;
      }
    }
  }

  private onExit(err: Error): void {
    if (this.state === 'dead' || this.worker === null) return;
    this.clearStartTimer();
    this.worker = null;
    const wasStarting = this.state === 'starting';
    this.state = 'dead';
    for (const p of this.pending.values()) p.reject(new Error(`speech decoder failed: ${err.message}`));
    this.pending.clear();
    this.session?.markBroken();
    this.session = null;
    this.pool.slotDied(this, wasStarting, err);
  }

  request(req: WorkerRequestBody, owner: SessionImpl | null, transfer: ArrayBuffer[] = []): Promise<WorkerResult> {
    const worker = this.worker;
    if (!worker || this.state === 'dead') return Promise.reject(new Error('speech decoder is not running'));
    const seq = ++this.seq;
    return new Promise<WorkerResult>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, owner });
      worker.postMessage({ ...req, seq } as WorkerRequest, transfer);
    });
  }

  /** Ends `owner`'s session: cut the current block short, drop its pending replies, reset, then back to the pool. */
  releaseSession(owner: SessionImpl): void {
    if (this.session !== owner) return;
    let cutShort = false;
    for (const [seq, p] of this.pending) {
      if (p.owner === owner) {
        this.pending.delete(seq);
        p.reject(new RecognizerAbortedError());
        cutShort = true;
      }
    }
    if (cutShort) Atomics.store(this.abortFlag, 0, 1);
    this.request({ op: 'reset' }, null).then(
      () => {
        this.session = null;
        if (this.state === 'busy') this.state = 'idle';
        this.pool.slotFreed(this);
      },
      () => {
        // The worker died while resetting; onExit has handled it.
      },
    );
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.clearStartTimer();
    if (!worker) return;
    this.state = 'dead';
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new RecognizerUnavailableError('speech recognition is shutting down'));
    this.pending.clear();
    await worker.terminate();
  }
}

class SessionImpl implements RecognizerSession {
  released = false;
  audioMs = 0;
  decodeMs = 0;
  private broken = false;
  private begun = false;
  private lastInSpeech = false;
  private detach: (() => void) | null = null;

  constructor(private readonly slot: DecoderSlot) {}

  attachSignal(signal: AbortSignal | undefined): void {
    if (!signal) return;
    const onAbort = (): void => this.release();
    signal.addEventListener('abort', onAbort, { once: true });
    this.detach = () => signal.removeEventListener('abort', onAbort);
  }

  markBroken(): void {
    this.broken = true;
    this.released = true;
  }

  private check(): void {
    if (this.broken) throw new Error('speech decoder failed during this session');
    if (this.released) throw new RecognizerAbortedError();
  }

  async begin(config: SessionConfig): Promise<void> {
    this.check();
    await this.slot.request({ op: 'begin', config }, this);
    this.begun = true;
  }

  async process(samples16k: Int16Array): Promise<ProcessOutcome> {
    this.check();
    if (!this.begun) throw new Error('RecognizerSession.process() before begin()');
    if (samples16k.length === 0) return { inSpeech: this.lastInSpeech, finals: [], decodeMs: 0 };
    // Copy so the caller's buffer (maybe a slice of a pooled Buffer) is never detached by the transfer.
    const copy = samples16k.slice();
    this.audioMs += (copy.length / 16000) * 1000;
    const r = await this.slot.request({ op: 'process', samples: copy }, this, [copy.buffer as ArrayBuffer]);
    if (r.op !== 'process') throw new Error('decoder worker answered out of order');
    this.decodeMs += r.outcome.decodeMs;
    if (r.aborted) throw new RecognizerAbortedError();
    this.lastInSpeech = r.outcome.inSpeech;
    return r.outcome;
  }

  async finish(): Promise<UtteranceResult[]> {
    this.check();
    if (!this.begun) throw new Error('RecognizerSession.finish() before begin()');
    const r = await this.slot.request({ op: 'finish' }, this);
    if (r.op !== 'finish') throw new Error('decoder worker answered out of order');
    this.decodeMs += r.decodeMs;
    return r.finals;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.detach?.();
    this.detach = null;
    this.slot.releaseSession(this);
  }
}

interface Waiter {
  resolve: (s: RecognizerSession) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
  cleanup: () => void;
}

class PoolImpl implements RecognizerPool {
  readonly ready: Promise<void>;
  private readonly slots: DecoderSlot[] = [];
  private readonly waiters: Waiter[] = [];
  private unavailableReason: string | undefined;
  private closed = false;
  private readyCount = 0;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;

  constructor(private readonly options: RecognizerPoolOptions) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Nobody may be listening yet; the rejection is also reported through stats() and acquire().
    this.ready.catch(() => {});
    const n = Math.max(1, Math.floor(options.workers ?? 2));
    for (let i = 0; i < n; i++) this.slots.push(new DecoderSlot(this, options));
    for (const s of this.slots) s.start();
  }

  slotReady(_slot: DecoderSlot): void {
    this.readyCount += 1;
    if (this.readyCount >= this.slots.length) this.resolveReady();
    this.dispatch();
  }

  slotUnavailable(_slot: DecoderSlot, message: string): void {
    if (this.unavailableReason === undefined) this.unavailableReason = message;
    const err = new RecognizerUnavailableError(message);
    this.rejectReady(err);
    for (const w of this.waiters.splice(0)) {
      w.cleanup();
      w.reject(err);
    }
  }

  slotFreed(_slot: DecoderSlot): void {
    this.dispatch();
  }

  slotDied(slot: DecoderSlot, wasStarting: boolean, err: Error): void {
    if (this.closed || this.unavailableReason !== undefined) return;
    if (wasStarting) {
      this.slotUnavailable(slot, `speech decoder failed to start: ${err.message}`);
      return;
    }
    setTimeout(() => {
      if (!this.closed) slot.start();
    }, this.options.respawnDelayMs ?? 1000).unref();
  }

  private grant(slot: DecoderSlot, signal: AbortSignal | undefined): RecognizerSession {
    slot.state = 'busy';
    const session = new SessionImpl(slot);
    slot.session = session;
    session.attachSignal(signal);
    return session;
  }

  private dispatch(): void {
    while (this.waiters.length > 0) {
      const slot = this.slots.find((s) => s.state === 'idle');
      if (!slot) return;
      const w = this.waiters.shift()!;
      w.cleanup();
      w.resolve(this.grant(slot, w.signal));
    }
  }

  acquire(signal?: AbortSignal, queueTimeoutMs?: number): Promise<RecognizerSession> {
    if (this.closed) return Promise.reject(new RecognizerUnavailableError('speech recognition is shutting down'));
    if (this.unavailableReason !== undefined) return Promise.reject(new RecognizerUnavailableError(this.unavailableReason));
    if (signal?.aborted) return Promise.reject(new RecognizerAbortedError());
    const idle = this.waiters.length === 0 ? this.slots.find((s) => s.state === 'idle') : undefined;
    if (idle) return Promise.resolve(this.grant(idle, signal));
    const queueMax = this.options.queueMax ?? 16;
    if (this.waiters.length >= queueMax) {
      return Promise.reject(new RecognizerBusyError('queue_full', `all ${this.slots.length} speech decoders are busy and ${this.waiters.length} callers are already waiting; retry later`));
    }
    const timeoutMs = queueTimeoutMs ?? this.options.queueTimeoutMs ?? 5000;
    return new Promise<RecognizerSession>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, cleanup: () => {} };
      const remove = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        waiter.cleanup();
      };
      const timer = setTimeout(() => {
        remove();
        reject(new RecognizerBusyError('queue_timeout', `no speech decoder became free within ${timeoutMs} ms; retry later`));
      }, timeoutMs);
      const onAbort = (): void => {
        remove();
        reject(new RecognizerAbortedError('cancelled while waiting for a speech decoder'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.waiters.push(waiter);
    });
  }

  stats(): RecognizerPoolStats {
    let busy = 0;
    let idle = 0;
    for (const s of this.slots) {
      if (s.state === 'busy') busy += 1;
      else if (s.state === 'idle') idle += 1;
    }
    const available = !this.closed && this.unavailableReason === undefined;
    return {
      size: this.slots.length,
      ready: busy + idle,
      busy,
      idle,
      queued: this.waiters.length,
      available,
      ...(this.unavailableReason !== undefined ? { unavailableReason: this.unavailableReason } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new RecognizerUnavailableError('speech recognition is shutting down');
    this.rejectReady(err);
    for (const w of this.waiters.splice(0)) {
      w.cleanup();
      w.reject(err);
    }
    await Promise.all(this.slots.map((s) => s.close()));
  }
}

/** Starts the workers (model load and warm-up begin at once) and returns the pool; await `ready` before serving. */
export function createRecognizerPool(options: RecognizerPoolOptions = {}): RecognizerPool {
  return new PoolImpl(options);
}
