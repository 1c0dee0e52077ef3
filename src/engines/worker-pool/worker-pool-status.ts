/**
 * The one place where engine worker pool failures become gRPC statuses, so eSpeak NG, Flite and PocketSphinx
 * callers see the same code, reason and retry advice for the same trouble.
 */

import { status as Status } from '@grpc/grpc-js';

import { GatehouseError } from '../../errors.js';
import type { WorkerPoolError, WorkerPoolFailure } from './worker-pool-error.js';

/** How one failure kind reaches the client. */
export interface WorkerPoolStatus {
  /** gRPC status code. */
  code: Status;
  /** `google.rpc.ErrorInfo.reason`. */
  reason: string;
  /** `google.rpc.RetryInfo` delay in ms, when retrying helps. */
  retryDelayMs?: number;
}

/** Kind to status: busy is RESOURCE_EXHAUSTED, a lost or missing worker UNAVAILABLE, an engine bug INTERNAL. */
export const WORKER_POOL_STATUS: Readonly<Record<WorkerPoolFailure, WorkerPoolStatus>> = {
  queue_full: { code: Status.RESOURCE_EXHAUSTED, reason: 'ENGINE_BUSY', retryDelayMs: 1000 },
  queue_timeout: { code: Status.RESOURCE_EXHAUSTED, reason: 'ENGINE_BUSY', retryDelayMs: 1000 },
  crashed: { code: Status.UNAVAILABLE, reason: 'ENGINE_WORKER_FAILED', retryDelayMs: 100 },
  hung: { code: Status.UNAVAILABLE, reason: 'ENGINE_WORKER_FAILED', retryDelayMs: 100 },
  // The caller's own pace caused it: retrying helps only if it reads (or sends) faster, so no RetryInfo.
  idle: { code: Status.RESOURCE_EXHAUSTED, reason: 'ENGINE_IDLE_TIMEOUT' },
  stopped: { code: Status.UNAVAILABLE, reason: 'ENGINE_STOPPING', retryDelayMs: 1000 },
  unavailable: { code: Status.UNAVAILABLE, reason: 'ENGINE_UNAVAILABLE' },
  failed: { code: Status.INTERNAL, reason: 'ENGINE_ERROR' },
};

/** The GatehouseError a client sees for `error`; ErrorInfo metadata names the engine, the cause stays in the log. */
export function workerPoolErrorToStatus(error: WorkerPoolError): GatehouseError {
  const { code, reason, retryDelayMs } = WORKER_POOL_STATUS[error.kind];
  return new GatehouseError(code, reason, error.message, { retryDelayMs, metadata: { engine: error.engine }, cause: error });
}
