/** eSpeak NG as a `TtsEngine`: about a hundred languages (Russian and English included) at 22050 Hz. */

import { createPooledEngine, type PooledEngineOptions } from '../pooled-engine.js';
import type { TtsEngine } from '../tts-engine.js';
import { workerModuleUrl } from '../module-worker.js';
import { ESPEAK_DEFAULT_WPM, ESPEAK_MAX_WPM, ESPEAK_MIN_WPM, type EspeakRequest } from './espeak-request.js';

/** Engine name reported in `Voice.engine`. */
export const ESPEAK_ENGINE_NAME = 'espeak-ng';

/** eSpeak pitch units per semitone: its 0..100 scale spans roughly +-20 semitones around 50. */
const PITCH_UNITS_PER_SEMITONE = 2.5;

/** Maps an API speaking rate (1 = normal) to eSpeak words per minute, clamped to what eSpeak supports. */
export function espeakWordsPerMinute(speakingRate: number): number {
  return Math.min(ESPEAK_MAX_WPM, Math.max(ESPEAK_MIN_WPM, ESPEAK_DEFAULT_WPM * (speakingRate || 1)));
}

/** Maps a pitch shift in semitones to eSpeak's 0..100 pitch (50 = the voice's own). */
export function espeakPitch(semitones: number): number {
  return Math.min(100, Math.max(0, 50 + semitones * PITCH_UNITS_PER_SEMITONE));
}

/** Creates the eSpeak NG engine; `start()` launches and warms `options.workers` worker threads. `workerUrl` is for tests. */
export function createEspeakEngine(options: PooledEngineOptions & { workerUrl?: URL }): TtsEngine {
  return createPooledEngine(
    {
      name: ESPEAK_ENGINE_NAME,
      workerUrl: options.workerUrl ?? workerModuleUrl('espeak-worker', import.meta.url),
      toWorkerRequest: (voice, request): EspeakRequest => ({
        voiceId: voice.id,
        text: request.text,
        wordsPerMinute: espeakWordsPerMinute(request.speakingRate),
        pitch: espeakPitch(request.pitchSemitones),
        ...(request.preceding ? { preceding: request.preceding } : {}),
        ...(request.continuation ? { continuation: request.continuation } : {}),
      }),
      synthesizesInContext: true,
    },
    options,
  );
}
