/** The `stt:` section of the gateway config (SpeechToText and its PocketSphinx decoder pool). */

import { z } from 'zod';

import { DEFAULT_MODEL_DIR } from '../../engines/pocketsphinx/index.js';

/** Schema of the `stt:` section; every field has a default, so `stt: {}` (or no section) is valid. */
export const SttConfigSchema = z.strictObject({
  /** Host SpeechToText at all. Default true. */
  enabled: z.boolean().default(true),
  /** Decoder worker threads, each holding one warm decoder (~95 MB). Default 2. */
  workers: z.number().int().min(1).max(64).default(2),
  /** Calls that may wait for a decoder when all are busy; one more gets RESOURCE_EXHAUSTED at once. Default 16. */
  queueMax: z.number().int().min(0).max(10000).default(16),
  /** Longest wait for a free decoder before RESOURCE_EXHAUSTED, in ms. Default 5000. */
  queueTimeoutMs: z.number().int().min(0).max(600000).default(5000),
  /** Longest audio per Recognize call or per stream, in seconds. Default 60. */
  maxAudioSeconds: z.number().positive().max(3600).default(60),
  /** Largest encoded audio per Recognize call or per stream, in bytes. Default 10 MiB. */
  maxAudioBytes: z.number().int().min(1024).default(10 * 1024 * 1024),
  /** Directory of the en-US model (`en-us/`, `en-us.lm.bin`, `cmudict-en-us.dict`). Default Debian's pocketsphinx-en-us. */
  modelDir: z.string().min(1).default(DEFAULT_MODEL_DIR),
  /** Silence after speech that ends an utterance, in ms (engine voice activity detection). Default 500. */
  endSilenceMs: z.number().int().min(100).max(5000).default(500),
  /** Time allowed for a decoder to load and warm up, in ms. Default 60000. */
  startTimeoutMs: z.number().int().min(1000).default(60000),
}).prefault({});

/** Validated `stt:` section. */
export type SttConfig = z.infer<typeof SttConfigSchema>;
