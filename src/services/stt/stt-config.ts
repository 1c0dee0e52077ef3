/** The `stt:` section of the gateway config (SpeechToText and its PocketSphinx decoder pool). */

import { z } from 'zod';

import { workerPoolFields } from '../../config/worker-pool-schema.js';
import { DEFAULT_MODEL_DIR } from '../../engines/pocketsphinx/index.js';

/** Schema of the `stt:` section; every field has a default, so `stt: {}` (or no section) is valid. */
export const SttConfigSchema = z
  .strictObject({
    /** Host SpeechToText at all. Default true. */
    enabled: z.boolean().default(true),
    /**
     * The decoder worker pool (keys and meanings as in `tts:`, see src/config/worker-pool-schema.ts): `workers`
     * decoders of ~95 MB each (default 2), a queue of 16 waiting up to 5000 ms, a stream silent for `idleTimeoutMs`
     * loses its decoder. `hungTimeoutMs` defaults to 30000 here: the end of an utterance is one native call without
     * heartbeats, which takes seconds for long audio on a busy machine.
     */
    ...workerPoolFields({ workers: 2, hungTimeoutMs: 30_000 }),
    /** Longest audio per Recognize call or per stream, in seconds. Default 60. */
    maxAudioSeconds: z.number().positive().max(3600).default(60),
    /** Largest encoded audio per Recognize call or per stream, in bytes. Default 10 MiB. */
    maxAudioBytes: z
      .number()
      .int()
      .min(1024)
      .default(10 * 1024 * 1024),
    /** Directory of the en-US model (`en-us/`, `en-us.lm.bin`, `cmudict-en-us.dict`). Default Debian's pocketsphinx-en-us. */
    modelDir: z.string().min(1).default(DEFAULT_MODEL_DIR),
    /** Silence after speech that ends an utterance, in ms (engine voice activity detection). Default 500. */
    endSilenceMs: z.number().int().min(100).max(5000).default(500),
  })
  .prefault({});

/** Validated `stt:` section. */
export type SttConfig = z.infer<typeof SttConfigSchema>;
