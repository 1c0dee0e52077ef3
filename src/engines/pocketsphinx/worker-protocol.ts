/** Messages between the recognizer pool (main thread) and a decoder worker. Every request gets exactly one reply. */

import type { DecoderOptions } from './decoder.js';
import type { ProcessOutcome, SessionConfig, UtteranceResult } from './recognition-result.js';

/** Data a decoder worker starts with. */
export interface DecoderWorkerData {
  /** How to build the decoder. */
  decoder: DecoderOptions;
  /** One Int32 shared with the pool: non-zero asks the worker to stop the block it is decoding. */
  abortFlag: SharedArrayBuffer;
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

/** Worker -> pool. */
export type WorkerMessage =
  | { type: 'ready'; loadMs: number; warmUpMs: number }
  | { type: 'unavailable'; message: string }
  | { type: 'reply'; seq: number; ok: true; result: WorkerResult }
  | { type: 'reply'; seq: number; ok: false; error: WorkerError };

/** Reply payloads by op. */
export type WorkerResult =
  | { op: 'begin' }
  | { op: 'process'; outcome: ProcessOutcome; aborted: boolean }
  | { op: 'finish'; finals: UtteranceResult[]; decodeMs: number }
  | { op: 'reset' }
  | { op: 'close' };
