/**
 * Errors specific to recognition. Pool trouble (busy, crashed, hung, idle, stopped, unavailable) is a
 * `WorkerPoolError`; these carry no gRPC codes: the SpeechToText service maps them (bad request ->
 * INVALID_ARGUMENT, aborted -> the caller's own cancellation or deadline). `RecognizerUnavailableError` is thrown
 * inside the worker and reaches the pool as its start-up failure.
 */

/** The engine cannot run here: a library or the model is missing. The message names the Debian package to install. */
export class RecognizerUnavailableError extends Error {
  override readonly name = 'RecognizerUnavailableError';
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
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
