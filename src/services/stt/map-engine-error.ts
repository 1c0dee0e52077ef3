/** Engine and audio errors to the gateway's one error type. */

import { AudioFormatError } from '../../audio/index.js';
import {
  RecognizerAbortedError,
  RecognizerBusyError,
  RecognizerRequestError,
  RecognizerUnavailableError,
} from '../../engines/pocketsphinx/index.js';
import { GatehouseError, invalidArgument, resourceExhausted, unavailable } from '../../errors.js';
import type { SttMetrics } from './stt-metrics.js';

/** Suggested client back-off when every decoder is busy, in ms. */
const BUSY_RETRY_MS = 1000;

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
  if (err instanceof RecognizerBusyError) {
    metrics.rejected.inc({ reason: err.reason });
    return resourceExhausted('STT_DECODERS_BUSY', err.message, BUSY_RETRY_MS);
  }
  if (err instanceof RecognizerUnavailableError) {
    metrics.rejected.inc({ reason: 'unavailable' });
    return unavailable('STT_UNAVAILABLE', `speech recognition is unavailable: ${err.message}`, undefined, err);
  }
  if (err instanceof RecognizerAbortedError) return err; // only without a fired signal: a bug, becomes INTERNAL
  return err;
}
