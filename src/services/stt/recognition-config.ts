/** Validation of RecognitionConfig: every problem becomes INVALID_ARGUMENT naming the field, all at once. */

import type { AudioEncodingName } from '../../audio/index.js';
import { quoteValue } from '../../../interceptors/bounded-text.js';
import { invalidArgument, invalidFields, type FieldViolation } from '../../errors.js';
import type { RecognitionConfig__Output } from '../../generated/gatehouse/stt/v1/RecognitionConfig.js';

/** Sample rates accepted for raw audio, in Hz. */
export const MIN_SAMPLE_RATE_HZ = 8000;
export const MAX_SAMPLE_RATE_HZ = 48000;
const MAX_PHRASES = 500;
const MAX_PHRASE_CHARS = 100;
const MAX_GRAMMAR_BYTES = 64 * 1024;

/** A checked config in engine terms. */
export interface ValidRecognitionConfig {
  /** Encoding of the bytes (UNSPECIFIED means LINEAR16: raw or WAV). */
  encoding: AudioEncodingName;
  /** Declared sample rate in Hz; 0 when not given (allowed for WAV and Ogg). */
  sampleRateHz: number;
  /** Hypotheses per result, 1 to 10. */
  maxAlternatives: number;
  /** Whether to return per-word times. */
  wordTimeOffsets: boolean;
  /** Phrase hints, trimmed, non-empty. */
  phrases: string[];
  /** JSGF grammar, when given. */
  grammarJsgf?: string;
}

// A Map, not an object literal: the key comes from the request ("constructor" must not find Object.prototype's).
const ENCODINGS = new Map<string, AudioEncodingName>([
  ['ENCODING_UNSPECIFIED', 'LINEAR16'],
  ['LINEAR16', 'LINEAR16'],
  ['MULAW', 'MULAW'],
  ['ALAW', 'ALAW'],
  ['OGG_OPUS', 'OGG_OPUS'],
]);

/**
 * Checks `config` (found at `path`, e.g. `config` or `streaming_config.config`). Throws one INVALID_ARGUMENT that
 * lists every violation.
 */
export function validateRecognitionConfig(config: RecognitionConfig__Output | null | undefined, path: string): ValidRecognitionConfig {
  if (!config) throw invalidArgument(`${path} is required`, [{ field: path, description: 'is required' }]);
  const v: FieldViolation[] = [];
  const f = (name: string): string => `${path}.${name}`;
  const encoding = ENCODINGS.get(String(config.encoding));
  if (!encoding)
    v.push({
      field: f('encoding'),
      description: `${quoteValue(config.encoding)} is not a supported encoding; use LINEAR16, MULAW, ALAW or OGG_OPUS`,
    });
  const rate = config.sampleRateHertz;
  if (rate !== 0 && (!Number.isInteger(rate) || rate < MIN_SAMPLE_RATE_HZ || rate > MAX_SAMPLE_RATE_HZ)) {
    v.push({
      field: f('sample_rate_hertz'),
      description: `must be 0 (taken from the header) or ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ} Hz; got ${rate}`,
    });
  }
  if (config.audioChannelCount !== 0 && config.audioChannelCount !== 1) {
    v.push({ field: f('audio_channel_count'), description: `only mono audio is supported (0 or 1); got ${config.audioChannelCount}` });
  }
  const lang = config.languageCode.trim();
  if (lang !== '' && !/^en(-us)?$/i.test(lang)) {
    v.push({ field: f('language_code'), description: `only en-US is installed; got ${quoteValue(lang)}` });
  }
  if (config.maxAlternatives < 0 || config.maxAlternatives > 10) {
    v.push({ field: f('max_alternatives'), description: `must be 0 to 10; got ${config.maxAlternatives}` });
  }
  const phrases: string[] = [];
  config.speechContexts.forEach((ctx, i) => {
    ctx.phrases.forEach((p, j) => {
      const t = p.trim().toLowerCase();
      if (t.length > MAX_PHRASE_CHARS)
        v.push({ field: f(`speech_contexts[${i}].phrases[${j}]`), description: `is longer than ${MAX_PHRASE_CHARS} characters` });
      else if (t.length > 0) phrases.push(t);
    });
  });
  if (phrases.length > MAX_PHRASES) v.push({ field: f('speech_contexts'), description: `has ${phrases.length} phrases; at most ${MAX_PHRASES}` });
  if (Buffer.byteLength(config.grammarJsgf) > MAX_GRAMMAR_BYTES) {
    v.push({ field: f('grammar_jsgf'), description: `is larger than ${MAX_GRAMMAR_BYTES} bytes` });
  }
  if (v.length > 0) {
    throw invalidFields(v, path);
  }
  return {
    encoding: encoding!,
    sampleRateHz: rate,
    maxAlternatives: Math.max(1, config.maxAlternatives),
    wordTimeOffsets: config.enableWordTimeOffsets,
    phrases,
    ...(config.grammarJsgf.trim() ? { grammarJsgf: config.grammarJsgf } : {}),
  };
}
