/**
 * The one error type of the engine worker pool. Both engines (synthesis and recognition) fail with it, and
 * `worker-pool-status.ts` turns each kind into a gRPC status in one place.
 */

/** Why a call could not be served by an engine worker. */
export type WorkerPoolFailure =
  /** Every worker was busy and the wait queue was full. */
  | 'queue_full'
  /** Every worker stayed busy for as long as the caller was allowed to wait. */
  | 'queue_timeout'
  /** The worker thread died while serving the call (uncaught error, WASM trap, out of memory); it has been replaced. */
  | 'crashed'
  /** The worker stopped making progress on the call and was terminated and replaced. */
  | 'hung'
  /** The caller held a worker without using it (did not read, did not send) for too long; the worker was taken back. */
  | 'idle'
  /** The pool is stopping or stopped. */
  | 'stopped'
  /** No worker can run: every one failed to start (a missing library or model, for one). Respawns continue. */
  | 'unavailable'
  /** The engine itself reported an error for this input (a bug or an engine limit, not the caller's fault). */
  | 'failed';

/**
 * An engine worker pool failure. `message` is safe for clients (it names the engine and limits, never internals);
 * anything private (exit codes, stack traces) travels in `cause`, for the log.
 */
export class WorkerPoolError extends Error {
  override readonly name = 'WorkerPoolError';

  /**
   * @param kind what went wrong
   * @param engine engine name, e.g. `espeak-ng` or `pocketsphinx`
   * @param message client-safe description
   * @param cause private detail for the log
   */
  constructor(
    readonly kind: WorkerPoolFailure,
    readonly engine: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}
