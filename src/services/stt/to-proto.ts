/** Engine results to the wire shapes of gatehouse.stt.v1. */

import type { RecognitionAlternative, UtteranceResult } from '../../engines/pocketsphinx/index.js';
import type { Duration } from '../../generated/google/protobuf/Duration.js';
import type { SpeechRecognitionAlternative } from '../../generated/gatehouse/stt/v1/SpeechRecognitionAlternative.js';
import type { SpeechRecognitionResult } from '../../generated/gatehouse/stt/v1/SpeechRecognitionResult.js';
import type { StreamingRecognitionResult } from '../../generated/gatehouse/stt/v1/StreamingRecognitionResult.js';

/** Milliseconds as a google.protobuf.Duration. */
export function msToDuration(ms: number): Duration {
  const whole = Math.max(0, Math.round(ms));
  return { seconds: String(Math.floor(whole / 1000)), nanos: (whole % 1000) * 1_000_000 };
}

function alternative(a: RecognitionAlternative, withWords: boolean): SpeechRecognitionAlternative {
  return {
    transcript: a.transcript,
    confidence: a.confidence,
    words: withWords
      ? a.words.map((w) => ({ word: w.word, startTime: msToDuration(w.startMs), endTime: msToDuration(w.endMs), confidence: w.confidence }))
      : [],
  };
}

/** The best hypothesis first, then the others, at most `maxAlternatives`. */
export function alternatives(u: UtteranceResult, maxAlternatives: number, withWords: boolean): SpeechRecognitionAlternative[] {
  return [alternative(u, withWords), ...u.alternatives.map((a) => alternative(a, withWords))].slice(0, maxAlternatives);
}

/** A Recognize result for one utterance. */
export function recognizeResult(u: UtteranceResult, maxAlternatives: number, withWords: boolean): SpeechRecognitionResult {
  return { alternatives: alternatives(u, maxAlternatives, withWords), resultEndTime: msToDuration(u.endMs) };
}

/** A final streaming result for one utterance. */
export function finalStreamingResult(u: UtteranceResult, maxAlternatives: number, withWords: boolean): StreamingRecognitionResult {
  return { alternatives: alternatives(u, maxAlternatives, withWords), isFinal: true, stability: 1, resultEndTime: msToDuration(u.endMs) };
}

/** An interim streaming result. */
export function interimStreamingResult(transcript: string, stability: number, audioMs: number): StreamingRecognitionResult {
  return { alternatives: [{ transcript, confidence: 0, words: [] }], isFinal: false, stability, resultEndTime: msToDuration(audioMs) };
}

/** How much of an interim hypothesis survived from the previous one: shared leading words over its words, at most 0.9. */
export function interimStability(previous: string, current: string): number {
  const a = previous.split(' ').filter(Boolean);
  const b = current.split(' ').filter(Boolean);
  if (b.length === 0) return 0;
  let same = 0;
  while (same < a.length && same < b.length && a[same] === b[same]) same += 1;
  return Math.min(0.9, same / b.length);
}
