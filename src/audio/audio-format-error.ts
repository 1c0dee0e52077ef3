/** Fields of a recognition config that an audio problem can be about. */
export type AudioConfigField = 'sample_rate_hertz' | 'encoding';

/**
 * Thrown by every decoder and parser in `src/audio/` when the bytes a caller supplied cannot be read as the audio
 * they claim to be. The message is written for the person who sent the audio (services map this error to
 * INVALID_ARGUMENT and pass the message through), so it names what was expected and what was found.
 */
export class AudioFormatError extends Error {
  /** Stable machine-readable reason, e.g. `WAV_RATE_MISMATCH`, `ODD_PCM_LENGTH`, `BAD_OGG_OPUS`. */
  readonly reason: string;
  /**
   * The recognition-config field the message is about (`sample_rate_hertz`, `encoding`), when it is about one
   * rather than the audio bytes; services put it in the field violation so it names what the client must change.
   */
  readonly configField?: AudioConfigField;

  /**
   * @param reason stable upper-snake-case reason code
   * @param message person-readable explanation, safe to show to the client
   * @param options optional underlying cause (kept private, for logs); the config field the message is about
   */
  constructor(reason: string, message: string, options?: { cause?: unknown; configField?: AudioConfigField }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AudioFormatError';
    this.reason = reason;
    if (options?.configField !== undefined) this.configField = options.configField;
  }
}
