/** What the main thread sends the Flite worker for one synthesis. */
export interface FliteRequest {
  /** Built-in Flite voice: `kal16`, `slt`, `rms`, `awb`. */
  voiceId: string;
  /** Plain text. */
  text: string;
  /** Flite `duration_stretch` (1 = normal, 0.5 = twice as fast). */
  durationStretch: number;
  /** Target mean F0 in Hz, or undefined to keep the voice's own. */
  f0MeanHz: number | undefined;
  /** Words before `text` in the sentence: synthesised for its prosody, their audio cut off (see `SynthesisRequest.preceding`). */
  preceding?: string;
  /** Words after `text` in the sentence: synthesised for its prosody, their audio cut off (see `SynthesisRequest.continuation`). */
  continuation?: string;
}

/** Flite's output rate for the 16 kHz voices, in Hz. */
export const FLITE_SAMPLE_RATE_HZ = 16000;
