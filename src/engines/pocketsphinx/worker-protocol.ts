/** Messages between a recognizer session (main thread) and a decoder worker. Every request gets exactly one reply. */

import type { DecoderOptions } from './decoder.js';
import type { ProcessOutcome, SessionConfig, UtteranceResult } from './recognition-result.js';

/** Data a decoder worker starts with (the pool's abort flag stops the block it is decoding). */
export interface DecoderWorkerData {
  /** How to build the decoder. */
  decoder: DecoderOptions;
}

/** Pool -> worker, before the pool numbers it. */
export type WorkerRequestBody =
  | { op: 'begin'; config: SessionConfig }
  | { op: 'process'; samples: Int16Array }
  | { op: 'finish' }
  | { op: 'reset' }
  | { op: 'close' };

/** Pool -> worker; `seq` pairs the request with its reply. */
export type WorkerRequest = WorkerRequestBody & { seq: number };

/** An error as it crosses the thread boundary. */
export interface WorkerError {
  /** Error class name: `RecognizerRequestError` is the caller's fault, anything else is ours. */
  name: string;
  message: string;
  /** Request field at fault, for `RecognizerRequestError`. */
  field?: string;
}

/** Worker -> pool, once ready (start-up messages are the pool's: see worker-pool/pool-worker.ts). */
export type WorkerMessage =
  | { type: 'reply'; seq: number; ok: true; result: WorkerResult }
  | { type: 'reply'; seq: number; ok: false; error: WorkerError };

/** Reply payloads by op. */
export type WorkerResult =
  | { op: 'begin' }
  | { op: 'process'; outcome: ProcessOutcome; aborted: boolean }
  | { op: 'finish'; finals: UtteranceResult[]; decodeMs: number }
  | { op: 'reset' }
  | { op: 'close' };
