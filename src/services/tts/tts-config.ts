import { z } from 'zod';

/**
 * The `tts:` section of the configuration: TextToSpeech engines, limits and the template fragment cache.
 * Every field has a default, so an absent section means "eSpeak NG with two workers, Flite with one".
 */
export const TtsConfigSchema = z.strictObject({
  /** Host the TextToSpeech service at all. Default true. */
  enabled: z.boolean().default(true),
  /** eSpeak NG worker threads, each with its own synthesiser (about 30 MB). Default 2. */
  workers: z.number().int().min(1).max(64).default(2),
  /** Flite (English `kal16`, `slt`, `rms`, `awb` at 16 kHz). */
  flite: z.strictObject({
    /** Offer the Flite voices. Default true. */
    enabled: z.boolean().default(true),
    /** Flite worker threads. Default 1. */
    workers: z.number().int().min(1).max(64).default(1),
  }).prefault({}),
  /** Longest text (or template with its slot values filled in) accepted, in characters. Default 5000. */
  maxTextChars: z.number().int().min(1).max(1_000_000).default(5000),
  /** Language used when a request names neither a voice nor a language. Default en-US. */
  defaultLanguageCode: z.string().min(2).default('en-US'),
  /** Synthesised template fragments kept per (voice, rate, pitch, text). Default 256. */
  templateCacheEntries: z.number().int().min(0).default(256),
  /** Upper bound on the fragment cache's audio, in bytes (16-bit samples at the voice's rate). Default 64 MiB. */
  templateCacheMaxBytes: z.number().int().min(0).default(64 * 1024 * 1024),
  /** Cross-fade at each join of a spliced template, in ms. Default 12. */
  crossfadeMs: z.number().min(0).max(200).default(12),
  /** Syntheses that may wait for a worker per engine before callers get RESOURCE_EXHAUSTED. Default 64. */
  maxQueuedJobs: z.number().int().min(0).default(64),
  /** A worker producing nothing for this long (while not paused by a slow reader) is replaced, in ms. Default 10000. */
  hungTimeoutMs: z.number().int().min(100).default(10_000),
  /** Time a cancelled synthesis gets to stop before its worker is terminated, in ms. Default 1000. */
  cancelGraceMs: z.number().int().min(10).default(1000),
  /** Unsent chunks (about 100 ms each) after which a streaming synthesis pauses for a slow reader. Default 4. */
  maxChunksInFlight: z.number().int().min(1).max(1000).default(4),
}).prefault({});

/** Validated TextToSpeech configuration. */
export type TtsConfig = z.infer<typeof TtsConfigSchema>;
