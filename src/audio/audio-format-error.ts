/**
 * Thrown by every decoder and parser in `src/audio/` when the bytes a caller supplied cannot be read as the audio
 * they claim to be. The message is written for the person who sent the audio (services map this error to
 * INVALID_ARGUMENT and pass the message through), so it names what was expected and what was found.
 */
export class AudioFormatError extends Error {
  /** Stable machine-readable reason, e.g. `WAV_RATE_MISMATCH`, `ODD_PCM_LENGTH`, `BAD_OGG_OPUS`. */
  readonly reason: string;

  /**
   * @param reason stable upper-snake-case reason code
   * @param message person-readable explanation, safe to show to the client
   * @param options optional underlying cause (kept private, for logs)
   */
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AudioFormatError';
    this.reason = reason;
  }
}
