/** Engine and audio errors to the gateway's one error type. */

import { AudioFormatError } from '../../audio/index.js';
import { RecognizerAbortedError, RecognizerRequestError } from '../../engines/pocketsphinx/index.js';
import { WorkerPoolError, workerPoolErrorToStatus } from '../../engines/worker-pool/index.js';
import { GatehouseError, invalidArgument } from '../../errors.js';
import type { SttMetrics, SttRejectReason } from './stt-metrics.js';

/** Pool failures that turn a call away, counted in `gatehouse_stt_rejected_total`. */
const REJECTED: Partial<Record<WorkerPoolError['kind'], SttRejectReason>> = {
  queue_full: 'queue_full',
  queue_timeout: 'queue_timeout',
  unavailable: 'unavailable',
  idle: 'idle',
};

/**
 * Maps what recognition threw to a GatehouseError and counts rejections. `audioField` names the request field the
 * audio came from. When the caller's signal has fired, its reason (CANCELLED or DEADLINE_EXCEEDED) wins.
 */
export function mapRecognitionError(err: unknown, signal: AbortSignal, metrics: SttMetrics, audioField: string): unknown {
  if (signal.aborted) return signal.reason;
  if (err instanceof GatehouseError) {
    if (err.reason === 'INVALID_ARGUMENT') metrics.rejected.inc({ reason: 'invalid_argument' });
    return err;
  }
  if (err instanceof AudioFormatError) {
    metrics.rejected.inc({ reason: 'invalid_argument' });
    return invalidArgument(err.message, [{ field: audioField, description: err.message }]);
  }
  if (err instanceof RecognizerRequestError) {
    metrics.rejected.inc({ reason: 'invalid_argument' });
    return invalidArgument(err.message, [{ field: err.field, description: err.message }]);
  }
  if (err instanceof WorkerPoolError) {
    const reason = REJECTED[err.kind];
    if (reason) metrics.rejected.inc({ reason });
    return workerPoolErrorToStatus(err);
  }
  if (err instanceof RecognizerAbortedError) return err; // only without a fired signal: a bug, becomes INTERNAL
  return err;
}
