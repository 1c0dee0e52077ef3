/** Flite as a `TtsEngine`: clear US English diphone voices at 16 kHz (`kal16` is the default English for STT tests). */

import { createPooledEngine, type PooledEngineOptions } from '../pooled-engine.js';
import type { TtsEngine } from '../tts-engine.js';
import { workerModuleUrl } from '../module-worker.js';
import type { FliteRequest } from './flite-request.js';
import { FLITE_VOICES } from './flite-voices.js';

/** Engine name reported in `Voice.engine`. */
export const FLITE_ENGINE_NAME = 'flite';

/** Creates the Flite engine; `start()` launches and warms `options.workers` worker threads. */
export function createFliteEngine(options: PooledEngineOptions): TtsEngine {
  return createPooledEngine(
    {
      name: FLITE_ENGINE_NAME,
      workerUrl: workerModuleUrl('flite-worker', import.meta.url),
      toWorkerRequest: (voice, request): FliteRequest => {
        const base = FLITE_VOICES.find((v) => v.id === voice.id)?.baseF0Hz ?? 100;
        const rate = Math.min(4, Math.max(0.25, request.speakingRate || 1));
        return {
          voiceId: voice.id,
          text: request.text,
          durationStretch: 1 / rate,
          f0MeanHz: request.pitchSemitones === 0 ? undefined : base * 2 ** (request.pitchSemitones / 12),
          ...(request.preceding ? { preceding: request.preceding } : {}),
          ...(request.continuation ? { continuation: request.continuation } : {}),
        };
      },
      synthesizesInContext: true,
    },
    options,
  );
}
