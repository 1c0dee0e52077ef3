/**
 * Errors of the recognizer pool. They carry no gRPC codes: the SpeechToText service maps them
 * (unavailable -> UNAVAILABLE, busy -> RESOURCE_EXHAUSTED, bad request -> INVALID_ARGUMENT, aborted -> the caller's
 * own cancellation or deadline).
 */

/** The engine cannot run here: a library or the model is missing. The message names the Debian package to install. */
export class RecognizerUnavailableError extends Error {
  override readonly name = 'RecognizerUnavailableError';
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** Why a caller did not get a decoder: the wait queue was full, or the wait took longer than allowed. */
export type RecognizerBusyReason = 'queue_full' | 'queue_timeout';

/** All decoders were busy and the caller could not wait for one. */
export class RecognizerBusyError extends Error {
  override readonly name = 'RecognizerBusyError';
  constructor(
    /** Which limit was hit. */
    readonly reason: RecognizerBusyReason,
    message: string,
  ) {
    super(message);
  }
}

/** The request itself cannot be decoded (a grammar that does not compile, words missing from the dictionary). */
export class RecognizerRequestError extends Error {
  override readonly name = 'RecognizerRequestError';
  constructor(
    /** Request field at fault, in proto naming (`config.grammar_jsgf`). */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The caller's signal fired (cancel or deadline) while it waited for a decoder or while the decoder worked. */
export class RecognizerAbortedError extends Error {
  override readonly name = 'RecognizerAbortedError';
  constructor(message = 'recognition was cancelled') {
    super(message);
  }
}
