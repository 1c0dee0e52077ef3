/**
 * The one place where engine worker pool failures become gRPC statuses, so eSpeak NG, Flite and PocketSphinx
 * callers see the same code, reason and retry advice for the same trouble.
 */

import { GatehouseError, internal } from '../../errors.js';
import type { Reason } from '../../status/reasons.js';
import type { WorkerPoolError, WorkerPoolFailure } from './worker-pool-error.js';

/** How one failure kind reaches the client; the reason fixes the gRPC code (src/status/reasons.ts). */
export interface WorkerPoolStatus {
  /** `google.rpc.ErrorInfo.reason`. */
  reason: Reason;
  /** `google.rpc.RetryInfo` delay in ms, when retrying helps. */
  retryDelayMs?: number;
}

/** Kind to status: busy is RESOURCE_EXHAUSTED, a lost or missing worker UNAVAILABLE, an engine bug INTERNAL. */
export const WORKER_POOL_STATUS: Readonly<Record<WorkerPoolFailure, WorkerPoolStatus>> = {
  queue_full: { reason: 'ENGINE_BUSY', retryDelayMs: 1000 },
  queue_timeout: { reason: 'ENGINE_BUSY', retryDelayMs: 1000 },
  crashed: { reason: 'ENGINE_WORKER_FAILED', retryDelayMs: 100 },
  hung: { reason: 'ENGINE_WORKER_FAILED', retryDelayMs: 100 },
  // The caller's own pace caused it: retrying helps only if it reads (or sends) faster, so no RetryInfo.
  idle: { reason: 'ENGINE_IDLE_TIMEOUT' },
  stopped: { reason: 'ENGINE_STOPPING', retryDelayMs: 1000 },
  unavailable: { reason: 'ENGINE_UNAVAILABLE' },
  failed: { reason: 'INTERNAL' },
};

/**
 * The GatehouseError a client sees for `error`; ErrorInfo metadata names the engine, the cause stays in the log.
 * An engine's own failure is a bug to the client: INTERNAL with a reference id.
 */
export function workerPoolErrorToStatus(error: WorkerPoolError): GatehouseError {
  if (error.kind === 'failed') return internal(error);
  const { reason, retryDelayMs } = WORKER_POOL_STATUS[error.kind];
  return new GatehouseError(reason, error.message, { retryDelayMs, metadata: { engine: error.engine }, cause: error });
}
