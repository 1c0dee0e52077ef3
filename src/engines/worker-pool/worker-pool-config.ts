/** Tuning shared by every engine worker pool, with its defaults; `src/config/worker-pool-schema.ts` validates it. */

/** How a worker pool behaves; the same keys configure synthesis (`tts:`) and recognition (`stt:`). */
export interface WorkerPoolConfig {
  /** Worker threads, each with its own engine instance. At least 1. */
  workers: number;
  /** Calls that may wait for a busy worker; one more fails at once with RESOURCE_EXHAUSTED. Default 16. */
  queueMax: number;
  /** Longest wait for a free worker before RESOURCE_EXHAUSTED, in ms. Default 5000. */
  queueTimeoutMs: number;
  /** A worker working on a call that shows no progress for this long is terminated and replaced, in ms. Default 10000. */
  hungTimeoutMs: number;
  /** A caller that holds a worker without using it (not reading, not sending) for this long loses it, in ms. Default 10000. */
  idleTimeoutMs: number;
  /** After a call is cancelled, time the worker gets to stop and clean up before it is terminated, in ms. Default 1000. */
  cancelGraceMs: number;
  /** Time a worker may take to load and warm its engine, in ms. Default 60000. */
  startTimeoutMs: number;
  /** Wait before retrying a worker that failed to start, in ms; doubles per failure up to `respawnMaxDelayMs`. Default 1000. */
  respawnDelayMs: number;
  /** Longest wait between start attempts, in ms; attempts never stop. Default 30000. */
  respawnMaxDelayMs: number;
}

/** Defaults for every field but `workers`. */
export const WORKER_POOL_DEFAULTS: Readonly<Omit<WorkerPoolConfig, 'workers'>> = Object.freeze({
  queueMax: 16,
  queueTimeoutMs: 5000,
  hungTimeoutMs: 10_000,
  idleTimeoutMs: 10_000,
  cancelGraceMs: 1000,
  startTimeoutMs: 60_000,
  respawnDelayMs: 1000,
  respawnMaxDelayMs: 30_000,
});
