/**
 * Config keys of an engine worker pool, the same in `tts:` and `stt:` (meanings in
 * `src/engines/worker-pool/worker-pool-config.ts`, which also holds the defaults).
 */

import { z } from 'zod';

import { WORKER_POOL_DEFAULTS, type WorkerPoolConfig } from '../engines/worker-pool/worker-pool-config.js';

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * Zod fields for a worker pool, to spread into a section's schema. `defaults` overrides the shared defaults
 * (TextToSpeech queues more callers than SpeechToText, for one).
 */
export function workerPoolFields(defaults: Partial<WorkerPoolConfig> & { workers: number }) {
  const d = { ...WORKER_POOL_DEFAULTS, ...defaults };
  return {
    /** Worker threads, each with its own engine instance. */
    workers: z.number().int().min(1).max(64).default(d.workers),
    /** Calls that may wait for a busy worker; one more gets RESOURCE_EXHAUSTED at once. */
    queueMax: z.number().int().min(0).max(10_000).default(d.queueMax),
    /** Longest wait for a free worker before RESOURCE_EXHAUSTED, in ms. */
    queueTimeoutMs: ms(0, 600_000).default(d.queueTimeoutMs),
    /** A worker showing no progress on a call for this long is replaced and the call gets UNAVAILABLE, in ms. */
    hungTimeoutMs: ms(100, 3_600_000).default(d.hungTimeoutMs),
    /** A call holding a worker without reading or sending for this long loses it (RESOURCE_EXHAUSTED), in ms. */
    idleTimeoutMs: ms(100, 3_600_000).default(d.idleTimeoutMs),
    /** Time a cancelled call's worker gets to stop and clean up before it is terminated, in ms. */
    cancelGraceMs: ms(10, 600_000).default(d.cancelGraceMs),
    /** Time a worker may take to load and warm up, in ms. */
    startTimeoutMs: ms(1000, 3_600_000).default(d.startTimeoutMs),
    /** First wait before retrying a worker that failed to start, in ms; doubles per failure. */
    respawnDelayMs: ms(10, 3_600_000).default(d.respawnDelayMs),
    /** Longest wait between start attempts, in ms; attempts never stop. */
    respawnMaxDelayMs: ms(10, 3_600_000).default(d.respawnMaxDelayMs),
  };
}

/** The pool tuning of a validated section, ready for an engine's options. */
export function workerPoolConfig(section: WorkerPoolConfig): WorkerPoolConfig {
  const { workers, queueMax, queueTimeoutMs, hungTimeoutMs, idleTimeoutMs, cancelGraceMs, startTimeoutMs, respawnDelayMs, respawnMaxDelayMs } =
    section;
  return { workers, queueMax, queueTimeoutMs, hungTimeoutMs, idleTimeoutMs, cancelGraceMs, startTimeoutMs, respawnDelayMs, respawnMaxDelayMs };
}
