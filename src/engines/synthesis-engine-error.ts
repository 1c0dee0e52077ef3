/** Why an engine could not produce audio. */
export type SynthesisFailureKind =
  /** The worker thread died (uncaught error, WASM trap, out of memory). Retryable: it has been replaced. */
  | 'crashed'
  /** The worker stopped making progress and was terminated and replaced. Retryable. */
  | 'hung'
  /** The queue of waiting jobs is full. Retryable later. */
  | 'overloaded'
  /** The engine is stopping or stopped. */
  | 'stopped'
  /** The synthesiser reported an error for this input. */
  | 'failed';

/**
 * An engine failure. The service maps `crashed`, `hung` and `stopped` to UNAVAILABLE, `overloaded` to
 * RESOURCE_EXHAUSTED and `failed` to INTERNAL; the message is for logs, not clients.
 */
export class SynthesisEngineError extends Error {
  /** What went wrong. */
  readonly kind: SynthesisFailureKind;

  /**
   * @param kind failure class
   * @param message detail for logs
   * @param options optional cause
   */
  constructor(kind: SynthesisFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SynthesisEngineError';
    this.kind = kind;
  }
}
