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
 * audio came from, `configPath` the recognition config (`config`, `streaming_config.config`): a field violation
 * names the field its message is about. When the caller's signal has fired, its reason (CANCELLED or
 * DEADLINE_EXCEEDED) wins.
 */
export function mapRecognitionError(err: unknown, signal: AbortSignal, metrics: SttMetrics, audioField: string, configPath: string): unknown {
  if (signal.aborted) return signal.reason;
  if (err instanceof GatehouseError) {
    if (err.reason === 'INVALID_ARGUMENT') metrics.rejected.inc({ reason: 'invalid_argument' });
    return err;
  }
  if (err instanceof AudioFormatError) {
    metrics.rejected.inc({ reason: 'invalid_argument' });
    const field = err.configField === undefined ? audioField : `${configPath}.${err.configField}`;
    return invalidArgument(err.message, [{ field, description: err.message }]);
  }
  if (err instanceof RecognizerRequestError) {
    metrics.rejected.inc({ reason: 'invalid_argument' });
    // The engine names fields from Recognize's request (`config.grammar_jsgf`); a stream's config lives elsewhere.
    const field = err.field === 'config' || err.field.startsWith('config.') ? configPath + err.field.slice('config'.length) : err.field;
    return invalidArgument(err.message, [{ field, description: err.message }]);
  }
  if (err instanceof WorkerPoolError) {
    const reason = REJECTED[err.kind];
    if (reason) metrics.rejected.inc({ reason });
    return workerPoolErrorToStatus(err);
  }
  if (err instanceof RecognizerAbortedError) return err; // only without a fired signal: a bug, becomes INTERNAL
  return err;
}
