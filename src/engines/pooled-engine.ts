/**
 * A `TtsEngine` made of the shared `WorkerPool` plus two engine-specific pieces: which worker module to run and how
 * to turn an API-level request into that worker's request. eSpeak NG and Flite are both built this way.
 */

import { runSynthesisJob, SynthesisBuffer, type SynthesisOutcome } from './synthesis-job.js';
import type { SynthesisWorkerReady, WorkerVoice } from './synthesis-worker-protocol.js';
import type { EngineStats, EngineVoice, SynthesisCallOptions, SynthesisRequest, SynthesisResult, TtsEngine } from './tts-engine.js';
import { WorkerPool } from './worker-pool/worker-pool.js';
import type { WorkerPoolConfig } from './worker-pool/worker-pool-config.js';
import { WorkerPoolError } from './worker-pool/worker-pool-error.js';

/** Pool tuning (see `WorkerPoolConfig`; `workers` is required) plus what only synthesis has. */
export interface PooledEngineOptions extends Partial<WorkerPoolConfig> {
  /** Worker threads, each with its own synthesiser. */
  workers: number;
  /** Unacknowledged chunks after which a synthesiser pauses for a reader that is behind its buffer. Default 4. */
  maxChunksInFlight?: number;
  /** Undelivered audio one call may buffer so that its worker can finish without waiting for the reader, in bytes. Default 16 MiB. */
  bufferBytesPerCall?: number;
  /** Undelivered audio all calls of this engine may buffer together, in bytes. Default 64 MiB. */
  bufferBytesTotal?: number;
  /** Workers that may sit paused for readers further behind than their buffer; one more such reader fails at once. Default `workers - 1`. */
  maxPausedWorkers?: number;
  /** Problems that fail no call (a replacement worker that failed to start). Default: ignored. */
  onBackgroundError?: (error: Error) => void;
}

/** Engine-specific parts of a pooled engine. */
export interface PooledEngineSpec {
  /** Engine name (`Voice.engine`). */
  name: string;
  /** Worker entry module (it calls `serveSynthesisBackend`). */
  workerUrl: URL;
  /** Start data for the worker. Default undefined. */
  workerData?: unknown;
  /** Maps a request for `voice` to the worker's request object. */
  toWorkerRequest(voice: WorkerVoice, request: SynthesisRequest): unknown;
  /** Whether the worker honours `SynthesisRequest.preceding` and `continuation` (see `TtsEngine.synthesizesInContext`). Default false. */
  synthesizesInContext?: boolean;
}

/** Builds a `TtsEngine` from a spec and pool options; nothing starts before `start()`. */
export function createPooledEngine(spec: PooledEngineSpec, options: PooledEngineOptions): TtsEngine {
  const {
    maxChunksInFlight = 4,
    bufferBytesPerCall = 16 * 1024 * 1024,
    bufferBytesTotal = 64 * 1024 * 1024,
    maxPausedWorkers = options.workers - 1,
    ...poolOptions
  } = options;
  const pool = new WorkerPool({ queueMax: 64, ...poolOptions, name: spec.name, workerUrl: spec.workerUrl, workerData: spec.workerData });
  const buffer = new SynthesisBuffer(bufferBytesTotal, maxPausedWorkers);
  const counters = { started: 0, completed: 0, cancelled: 0, failed: 0 };
  const count = (outcome: SynthesisOutcome) => void counters[outcome]++;
  let workerVoices = new Map<string, WorkerVoice>();
  let voices: EngineVoice[] = [];
  let sampleRateHz = 0;
  return {
    name: spec.name,
    synthesizesInContext: spec.synthesizesInContext ?? false,
    async start() {
      const ready = (await pool.start()) as unknown as SynthesisWorkerReady;
      sampleRateHz = ready.sampleRateHz;
      workerVoices = new Map(ready.voices.map((v) => [v.name, v]));
      voices = ready.voices.map((v) => ({
        name: v.name,
        languages: v.languages,
        gender: v.gender,
        naturalSampleRateHz: ready.sampleRateHz,
        engine: spec.name,
      }));
    },
    voices: () => voices,
    async synthesize(request: SynthesisRequest, callOptions: SynthesisCallOptions): Promise<SynthesisResult> {
      const voice = workerVoices.get(request.voiceName);
      if (!voice) throw new WorkerPoolError('failed', spec.name, `${spec.name} has no voice named ${request.voiceName}`);
      const workerRequest = spec.toWorkerRequest(voice, request);
      const lease = await pool.acquire(callOptions.signal);
      counters.started++;
      const result = await runSynthesisJob(
        lease,
        {
          engine: spec.name,
          request: workerRequest,
          signal: callOptions.signal,
          onChunk: callOptions.onChunk,
          maxChunksInFlight,
          bufferBytesPerCall,
          buffer,
        },
        count,
      );
      return { sampleRateHz, queueWaitMs: lease.queueWaitMs, ...result };
    },
    stats(): EngineStats {
      const s = pool.stats();
      return {
        workers: s.workers,
        busy: s.busy,
        idle: s.idle,
        available: s.available,
        queued: s.queued,
        ...counters,
        replaced: s.replaced,
        bufferedBytes: buffer.bytes,
      };
    },
    stop: () => pool.stop(),
  };
}
