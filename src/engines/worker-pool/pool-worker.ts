/**
 * The worker-thread side of the engine worker pool: the data a pooled worker starts with, the start-up messages it
 * owes the pool, and the shared control block through which the pool sees progress and asks for an abort while the
 * worker is inside a synchronous engine call and cannot read messages.
 */

import { parentPort, workerData } from 'node:worker_threads';

/** Index of the heartbeat counter in the control block (the worker increments it while it works). */
export const POOL_CONTROL_HEARTBEAT = 0;
/** Index of the abort flag (non-zero: stop the operation in progress as soon as possible). */
export const POOL_CONTROL_ABORT = 1;
/** Int32 slots in the control block. */
export const POOL_CONTROL_SLOTS = 2;

/** What the pool passes as `workerData`. */
export interface PoolWorkerData {
  /** Int32Array(POOL_CONTROL_SLOTS) over this buffer, one per slot. */
  control: SharedArrayBuffer;
  /** The engine's own start data. */
  data: unknown;
}

/** First message of a worker that can serve. Extra fields (voices, timings) reach `WorkerPool.start()`. */
export interface PoolWorkerReady {
  type: 'ready';
  [key: string]: unknown;
}

/** First message of a worker that cannot serve; `message` should say how to fix it (e.g. which package to install). */
export interface PoolWorkerInitError {
  type: 'init-error';
  message: string;
}

/** A worker's view of the pool. */
export interface PoolWorkerContext<T> {
  /** The engine's start data. */
  data: T;
  /** Counts as progress for the hang watchdog; call it between blocks of a long synchronous job. Cheap. */
  heartbeat(): void;
  /** True when the pool asked to stop the operation in progress (its caller is gone). */
  aborted(): boolean;
  /** Reports the worker ready; `info` is handed to `WorkerPool.start()`'s caller. */
  ready(info?: Record<string, unknown>): void;
  /** Reports that the engine cannot start here. */
  initError(message: string): void;
}

/** Reads the pool's `workerData`; call once, in a worker thread started by `WorkerPool`. */
export function poolWorkerContext<T>(): PoolWorkerContext<T> {
  const port = parentPort;
  if (!port) throw new Error('a pooled worker must run in a worker thread');
  const { control, data } = workerData as PoolWorkerData;
  const flags = new Int32Array(control);
  return {
    data: data as T,
    heartbeat: () => void Atomics.add(flags, POOL_CONTROL_HEARTBEAT, 1),
    aborted: () => Atomics.load(flags, POOL_CONTROL_ABORT) !== 0,
    ready: (info = {}) => port.postMessage({ ...info, type: 'ready' } satisfies PoolWorkerReady),
    initError: (message) => port.postMessage({ type: 'init-error', message } satisfies PoolWorkerInitError),
  };
}
