/** Plain data the decoder hands back; structured-cloneable so it can cross the worker boundary. */

/** One recognised word. Times count from the start of the session's audio. */
export interface RecognizedWord {
  /** The word as in the dictionary, without the `(2)` pronunciation-variant suffix. */
  word: string;
  /** Start of the word in milliseconds. */
  startMs: number;
  /** End of the word in milliseconds (end of its last 10 ms frame). */
  endMs: number;
  /** Posterior probability of the word, 0 to 1; 0 when not computed (alternatives after the best one). */
  confidence: number;
}

/** A transcript hypothesis for one utterance. */
export interface RecognitionAlternative {
  /** Words separated by single spaces, fillers removed; may be empty. */
  transcript: string;
  /** 0 to 1; only set for the best hypothesis (mean word posterior), 0 meaning "not set" as in Google's API. */
  confidence: number;
  /** The words with their times. */
  words: RecognizedWord[];
}

/** The final result of one utterance (speech between two pauses the engine's voice activity detector found). */
export interface UtteranceResult extends RecognitionAlternative {
  /** Further hypotheses after the best one, best first, distinct transcripts; at most `maxAlternatives - 1`. */
  alternatives: RecognitionAlternative[];
  /** Start of the utterance in milliseconds from the start of the audio. */
  startMs: number;
  /** End of the utterance in milliseconds from the start of the audio. */
  endMs: number;
}

/** What processing one block of audio produced. */
export interface ProcessOutcome {
  /** Current partial hypothesis of the utterance in progress, when interim results were asked for and it is non-empty. */
  interim?: string;
  /** Whether the voice activity detector is in speech after this block. */
  inSpeech: boolean;
  /** Utterances that ended inside this block, in order. */
  finals: UtteranceResult[];
  /** Milliseconds the decoder spent on this block. */
  decodeMs: number;
}

/** What a session's decoder is asked to do. */
export interface SessionConfig {
  /** Hypotheses per utterance, 1 to 10; default 1. */
  maxAlternatives?: number;
  /** Compute partial hypotheses while audio flows; default false. */
  interimResults?: boolean;
  /** A JSGF grammar that constrains recognition; default none (the n-gram language model). */
  grammarJsgf?: string;
  /** Words and phrases the caller expects; every word must be in the dictionary. */
  phrases?: string[];
  /**
   * The first `process` call brings all the audio (unary recognition): measure its cepstral mean first and decode
   * normalised by it, as the model was trained. Default false: start from the warm mean and adapt as audio flows.
   */
  measureCmn?: boolean;
}
