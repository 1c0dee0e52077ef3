/** What the main thread sends the eSpeak worker for one synthesis (already mapped to eSpeak's units). */
export interface EspeakRequest {
  /** eSpeak voice identifier, optionally with a variant: `gmw/en-US`, `gmw/en-US+f3`. */
  voiceId: string;
  /** Plain text; the worker escapes it because the binding always parses SSML. */
  text: string;
  /** Speaking rate in words per minute (eSpeak: 80..450, default 175). */
  wordsPerMinute: number;
  /** eSpeak pitch 0..100 (default 50). */
  pitch: number;
  /** Text before `text` in the sentence: synthesised for `text`'s prosody, its audio cut off (see `SynthesisRequest.preceding`). */
  preceding?: string;
  /** Text after `text` in the sentence: synthesised for `text`'s prosody, its audio cut off (see `SynthesisRequest.continuation`). */
  continuation?: string;
}

/** eSpeak's default speaking rate, in words per minute. */
export const ESPEAK_DEFAULT_WPM = 175;
/** Slowest and fastest rates eSpeak accepts, in words per minute. */
export const ESPEAK_MIN_WPM = 80;
/** See `ESPEAK_MIN_WPM`. */
export const ESPEAK_MAX_WPM = 450;
/** eSpeak's output rate, in Hz. */
export const ESPEAK_SAMPLE_RATE_HZ = 22050;
/** Variant appended to a voice id to get a female voice. */
export const ESPEAK_FEMALE_VARIANT = 'f3';
