import { z } from 'zod';

import { workerPoolFields } from '../../config/worker-pool-schema.js';

/**
 * The `tts:` section of the configuration: TextToSpeech engines, limits and the template fragment cache.
 * Every field has a default, so an absent section means "eSpeak NG with two workers, Flite with one".
 */
export const TtsConfigSchema = z
  .strictObject({
    /** Host the TextToSpeech service at all. Default true. */
    enabled: z.boolean().default(true),
    /**
     * Worker pool of each engine (keys and meanings as in `stt:`, see src/config/worker-pool-schema.ts): `workers` is
     * eSpeak NG's (each about 30 MB, default 2); the rest applies to eSpeak NG and Flite alike. Queue default 64.
     */
    ...workerPoolFields({ workers: 2, queueMax: 64 }),
    /** Old name of `queueMax`; accepted so existing files keep working. */
    maxQueuedJobs: z.number().int().min(0).max(10_000).optional(),
    /** Flite (English `kal16`, `slt`, `rms`, `awb` at 16 kHz). */
    flite: z
      .strictObject({
        /** Offer the Flite voices. Default true. */
        enabled: z.boolean().default(true),
        /** Flite worker threads. Default 1. */
        workers: z.number().int().min(1).max(64).default(1),
      })
      .prefault({}),
    /** Longest text (or template with its slot values filled in) accepted, in characters. Default 5000. */
    maxTextChars: z.number().int().min(1).max(1_000_000).default(5000),
    /** Language used when a request names neither a voice nor a language. Default en-US. */
    defaultLanguageCode: z.string().min(2).default('en-US'),
    /** Synthesised template fragments kept per (voice, rate, pitch, text). Default 256. */
    templateCacheEntries: z.number().int().min(0).default(256),
    /** Upper bound on the fragment cache's audio, in bytes (16-bit samples at the voice's rate). Default 64 MiB. */
    templateCacheMaxBytes: z
      .number()
      .int()
      .min(0)
      .default(64 * 1024 * 1024),
    /** Cross-fade at each join of a spliced template, in ms. Default 12. */
    crossfadeMs: z.number().min(0).max(200).default(12),
    /** Unsent chunks beyond the buffer after which a synthesiser pauses for a slow reader. Default 4. */
    maxChunksInFlight: z.number().int().min(1).max(1000).default(4),
    /**
     * Audio one stream may hold undelivered so its worker finishes without waiting for a slow reader, in bytes (16-bit
     * samples at the voice's rate: 16 MiB is about 6 minutes of eSpeak audio, more than 5000 characters). Default 16 MiB.
     */
    bufferBytesPerCall: z
      .number()
      .int()
      .min(0)
      .default(16 * 1024 * 1024),
    /** Undelivered audio all streams of one engine may hold together, in bytes. Default 64 MiB. */
    bufferBytesTotal: z
      .number()
      .int()
      .min(0)
      .default(64 * 1024 * 1024),
    /**
     * Workers per engine that may sit paused for readers further behind than their buffer; one more such reader
     * fails at once with RESOURCE_EXHAUSTED, so slow readers never hold every worker. Default: the engine's workers - 1.
     */
    maxPausedWorkers: z.number().int().min(0).max(64).optional(),
  })
  .prefault({});

/** Validated TextToSpeech configuration. */
export type TtsConfig = z.infer<typeof TtsConfigSchema>;
