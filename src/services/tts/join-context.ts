/**
 * What happens at the joins of a template, decided from its text: the words an engine is given around a piece so
 * the piece sounds as it would inside the whole sentence (`joinContext`), and, where there is no context (after a
 * sentence end, or an engine that cannot use it), the pause to leave at a join (`joinPauseMs`).
 */

/** A template piece as these functions need it. */
interface JoinPiece {
  /** `fixed` pieces are cached, so their neighbours are not known; `dynamic` ones are synthesised per call. */
  kind: 'fixed' | 'dynamic';
  text: string;
}

/** Words around a piece (see `SynthesisRequest.preceding` and `continuation`). */
export interface JoinContext {
  preceding?: string;
  continuation?: string;
}

/**
 * Stands for a slot next to a fixed (cached) piece, whose text varies per call: a digit, which every voice reads as
 * a word of its own language ("nine", "девять", "neun"), starting with a voiced consonant like most names and
 * numbers. Measured: a vowel instead ("один") moves the end of eSpeak's Russian "переводим" by 70 ms, and a
 * voiceless stop ("two") shortens the vowel before it in English ("Hello" by 55 ms with Flite).
 */
export const UNKNOWN_NEIGHBOUR = '9';

/**
 * What to synthesise around piece `index` so that it starts and ends as inside the whole sentence: the last words
 * of the piece before it and the first words of the piece after it. Next to a fixed (cached) piece, whose neighbour
 * varies per call, `UNKNOWN_NEIGHBOUR` stands for the slot (with the punctuation that ends the slot before it). No
 * context across a sentence end: a piece that ends a sentence ends as a whole sentence does, and the next one starts
 * as one.
 */
export function joinContext(pieces: readonly JoinPiece[], index: number): JoinContext {
  const piece = pieces[index];
  if (!piece) return {};
  const before = pieces[index - 1];
  const after = pieces[index + 1];
  const context: JoinContext = {};
  if (before && !endsSentence(before.text)) {
    context.preceding = piece.kind === 'fixed' ? `${UNKNOWN_NEIGHBOUR}${/\p{P}*$/u.exec(before.text.trimEnd())?.[0] ?? ''}` : lastWords(before.text);
  }
  if (after && !endsSentence(piece.text)) context.continuation = piece.kind === 'fixed' ? UNKNOWN_NEIGHBOUR : firstWords(after.text);
  return context;
}

/**
 * The pause the engine makes inside a whole sentence, by the punctuation that ends the text before it, in ms at
 * speaking rate 1. Measured on eSpeak NG's whole-sentence synthesis (en-US and ru, silences by the same 10 ms
 * frames and 5% threshold `speechBounds` uses): about 200 ms after a comma, 330-340 ms after a full stop, and
 * 0-50 ms between words (a stop's closure) where there is no punctuation.
 */
export const JOIN_PAUSES_MS = { sentence: 340, clause: 200, word: 30 } as const;

/** The pause after a piece whose text is `text`, at speaking rate `speakingRate` (1 = normal), in ms. */
export function joinPauseMs(text: string, speakingRate = 1): number {
  const end = text
    .trimEnd()
    .replace(/["'»”’)\]]+$/u, '')
    .slice(-1);
  const ms = /[.!?…]/u.test(end) ? JOIN_PAUSES_MS.sentence : /[,;:—–-]/u.test(end) ? JOIN_PAUSES_MS.clause : JOIN_PAUSES_MS.word;
  return ms / speakingRate;
}

/** Whether `text` ends with a sentence's final punctuation (closing quotes and brackets aside). */
function endsSentence(text: string): boolean {
  return /[.!?…]["'»”’)\]]*$/u.test(text.trimEnd());
}

/**
 * Words of a neighbouring piece given as context. Two, not one: Flite times a slot by its place in the phrase, and
 * with one word before it "4721." in "Your code is 4721." came out 0.11 s longer than in the whole sentence; with
 * two, as long.
 */
const CONTEXT_WORDS = 2;

const firstWords = (text: string): string => text.trim().split(/\s+/u).slice(0, CONTEXT_WORDS).join(' ');
const lastWords = (text: string): string => text.trim().split(/\s+/u).slice(-CONTEXT_WORDS).join(' ');
