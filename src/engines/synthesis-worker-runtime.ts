/**
 * The worker-thread half of the synthesis pool: wraps a synchronous synthesiser (a `SynthesisBackend`) so that
 * chunks are posted as they are produced, a shared cancel flag stops it between chunks, and it pauses when the
 * consumer falls `maxChunksInFlight` chunks behind.
 */

import { parentPort } from 'node:worker_threads';
import { poolWorkerContext } from './worker-pool/pool-worker.js';
import { CONTROL_ACKED, CONTROL_CANCEL, type FromWorkerMessage, type ToWorkerMessage, type WorkerVoice } from './synthesis-worker-protocol.js';

/** A synchronous synthesiser living in one worker thread. */
export interface SynthesisBackend {
  /** Voices this backend speaks. */
  readonly voices: WorkerVoice[];
  /** Rate of the samples it emits, in Hz. */
  readonly sampleRateHz: number;
  /**
   * Synthesises `request` (engine-specific), calling `emit` for every chunk in order. When `emit` returns false the
   * backend must stop as soon as it can and return.
   * An empty chunk sends nothing: it asks whether to go on and counts as progress for the hang watchdog (a backend
   * holding audio back calls it so).
   */
  synthesize(request: unknown, emit: (samples: Int16Array) => boolean): void;
}

/** Longest single wait for the consumer before re-checking the cancel flag, in ms. */
const PAUSE_SLICE_MS = 50;

/**
 * Runs in a worker started by `WorkerPool`: builds the backend from the pool's worker data, reports `ready` (or
 * `init-error`) and serves synthesis requests one at a time until the thread is terminated.
 */
export function serveSynthesisBackend(create: (data: unknown) => Promise<SynthesisBackend> | SynthesisBackend): void {
  const port = parentPort;
  if (!port) throw new Error('serveSynthesisBackend must run in a worker thread');
  const pool = poolWorkerContext<unknown>();
  const post = (message: FromWorkerMessage, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);
  Promise.resolve()
    .then(() => create(pool.data))
    .then(
      (backend) => {
        port.on('message', (message: ToWorkerMessage) => {
          if (message.type === 'synthesize') run(backend, message, post, () => pool.heartbeat());
        });
        pool.ready({ voices: backend.voices, sampleRateHz: backend.sampleRateHz });
      },
      (error: unknown) => {
        pool.initError(error instanceof Error ? error.message : String(error));
      },
    );
}

function run(
  backend: SynthesisBackend,
  message: ToWorkerMessage,
  post: (m: FromWorkerMessage, t?: ArrayBuffer[]) => void,
  heartbeat: () => void,
): void {
  const { jobId, maxChunksInFlight } = message;
  const control = new Int32Array(message.control);
  const cancelled = () => Atomics.load(control, CONTROL_CANCEL) !== 0;
  let produced = 0;
  try {
    backend.synthesize(message.request, (samples) => {
      if (cancelled()) return false;
      if (samples.length === 0) {
        heartbeat(); // a backend holding audio back is still working
        return true;
      }
      // Copy into a buffer of exactly this size so the transfer hands over no more than the chunk.
      const own =
        samples.byteOffset === 0 && samples.buffer.byteLength === samples.byteLength && samples.buffer instanceof ArrayBuffer
          ? samples
          : samples.slice();
      post({ type: 'chunk', jobId, samples: own }, [own.buffer as ArrayBuffer]);
      produced++;
      // Backpressure: block this thread (not the event loop) until the consumer catches up or the job is cancelled.
      for (;;) {
        const acked = Atomics.load(control, CONTROL_ACKED);
        if (produced - acked <= maxChunksInFlight || cancelled()) break;
        Atomics.wait(control, CONTROL_ACKED, acked, PAUSE_SLICE_MS);
      }
      return !cancelled();
    });
    post({ type: 'done', jobId, cancelled: cancelled() });
  } catch (error) {
    post({ type: 'error', jobId, message: error instanceof Error ? error.message : String(error) });
  }
}
