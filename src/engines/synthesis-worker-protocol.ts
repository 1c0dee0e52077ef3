/**
 * Messages between a synthesis job (`synthesis-job.ts`, main thread) and `serveSynthesisBackend` (worker thread), and the layout
 * of the per-job shared control block. The control block lets the main thread stop or pause a synthesis while the
 * worker is inside a synchronous WASM call, where it cannot read messages.
 */

import type { VoiceGender, VoiceLanguage } from './tts-engine.js';

/** Index of the cancel flag (0 = run, 1 = stop) in the control block. */
export const CONTROL_CANCEL = 0;
/** Index of the count of chunks the consumer has finished with. */
export const CONTROL_ACKED = 1;
/** Int32 slots in the control block. */
export const CONTROL_SLOTS = 2;

/** A voice as the worker reports it. */
export interface WorkerVoice {
  /** Engine-specific id passed back in requests (e.g. `gmw/en-US+f3`). */
  id: string;
  /** Client-facing name. */
  name: string;
  /** Languages, best first. */
  languages: VoiceLanguage[];
  /** Perceived gender. */
  gender: VoiceGender;
}

/** Main thread to worker. */
export type ToWorkerMessage = {
  type: 'synthesize';
  /** Correlates replies with the job. */
  jobId: number;
  /** Engine-specific request (structured-cloneable). */
  request: unknown;
  /** Int32Array(CONTROL_SLOTS) over a SharedArrayBuffer. */
  control: SharedArrayBuffer;
  /** The worker pauses when this many chunks are unacknowledged. */
  maxChunksInFlight: number;
};

/** What a synthesis worker reports in its `ready` message (see `pool-worker.ts`). */
export interface SynthesisWorkerReady {
  type: 'ready';
  /** Voices the backend speaks. */
  voices: WorkerVoice[];
  /** Rate of the samples it emits, in Hz. */
  sampleRateHz: number;
}

/** Worker to main thread, once ready. */
export type FromWorkerMessage =
  | { type: 'chunk'; jobId: number; samples: Int16Array }
  | { type: 'done'; jobId: number; cancelled: boolean }
  | { type: 'error'; jobId: number; message: string };
