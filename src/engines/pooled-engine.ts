/**
 * A `TtsEngine` made of a `SynthesisWorkerPool` plus two engine-specific pieces: which worker module to run and how
 * to turn an API-level request into that worker's request. eSpeak NG and Flite are both built this way.
 */

import { SynthesisWorkerPool, type SynthesisWorkerPoolOptions } from './synthesis-worker-pool.js';
import type { WorkerVoice } from './synthesis-worker-protocol.js';
import type { EngineStats, EngineVoice, SynthesisCallOptions, SynthesisRequest, SynthesisResult, TtsEngine } from './tts-engine.js';
import { SynthesisEngineError } from './synthesis-engine-error.js';

/** Pool tuning shared by every pooled engine; each field is documented on `SynthesisWorkerPoolOptions`. */
export type PooledEngineOptions = Pick<
  SynthesisWorkerPoolOptions,
  'size' | 'maxQueuedJobs' | 'hungTimeoutMs' | 'cancelGraceMs' | 'startTimeoutMs' | 'maxChunksInFlight' | 'onBackgroundError'
>;

/** Engine-specific parts of a pooled engine. */
export interface PooledEngineSpec {
  /** Engine name (`Voice.engine`). */
  name: string;
  /** Worker entry module. */
  workerUrl: URL;
  /** `workerData` for the worker. Default undefined. */
  workerData?: unknown;
  /** Maps a request for `voice` to the worker's request object. */
  toWorkerRequest(voice: WorkerVoice, request: SynthesisRequest): unknown;
}

/** Builds a `TtsEngine` from a spec and pool options. */
export function createPooledEngine(spec: PooledEngineSpec, options: PooledEngineOptions): TtsEngine {
  const pool = new SynthesisWorkerPool({ ...options, name: spec.name, workerUrl: spec.workerUrl, workerData: spec.workerData });
  let workerVoices = new Map<string, WorkerVoice>();
  let voices: EngineVoice[] = [];
  let sampleRateHz = 0;
  return {
    name: spec.name,
    async start() {
      const ready = await pool.start();
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
      if (!voice) throw new SynthesisEngineError('failed', `${spec.name} has no voice named ${request.voiceName}`);
      const result = await pool.run(spec.toWorkerRequest(voice, request), { signal: callOptions.signal, onChunk: callOptions.onChunk });
      return { sampleRateHz, ...result };
    },
    stats: (): EngineStats => pool.stats(),
    stop: () => pool.stop(),
  };
}
