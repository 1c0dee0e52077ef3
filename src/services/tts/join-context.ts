/**
 * What happens at the joins of a template, decided from its text: the words an engine is given around a piece so
 * the piece sounds as it would inside the whole sentence (`joinContext`), and, for engines that cannot use them, the
 * pause to leave at a join (`joinPauseMs`).
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
 * Stands for a slot next to a fixed (cached) piece, whose text varies per call: a digit, which every eSpeak voice
 * reads as a word of its own language ("two", "два", "zwei": a consonant first, like most names and numbers; a
 * vowel instead moves the end of a Russian "переводим" by 70 ms).
 */
export const UNKNOWN_NEIGHBOUR = '2';

/**
 * What to synthesise around piece `index` so that it starts and ends as inside the whole sentence: the last word
 * of the piece before it and the first word of the piece after it. Next to a fixed (cached) piece, whose neighbour
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
    context.preceding = piece.kind === 'fixed' ? `${UNKNOWN_NEIGHBOUR}${/\p{P}*$/u.exec(before.text.trimEnd())?.[0] ?? ''}` : lastWord(before.text);
  }
  if (after && !endsSentence(piece.text)) context.continuation = piece.kind === 'fixed' ? UNKNOWN_NEIGHBOUR : firstWord(after.text);
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
  const end = text.trimEnd().replace(/["'»”’)\]]+$/u, '').slice(-1);
  const ms = /[.!?…]/u.test(end) ? JOIN_PAUSES_MS.sentence : /[,;:—–-]/u.test(end) ? JOIN_PAUSES_MS.clause : JOIN_PAUSES_MS.word;
  return ms / speakingRate;
}

/** Whether `text` ends with a sentence's final punctuation (closing quotes and brackets aside). */
function endsSentence(text: string): boolean {
  return /[.!?…]["'»”’)\]]*$/u.test(text.trimEnd());
}

const firstWord = (text: string): string => text.trim().split(/\s+/u)[0] ?? '';
const lastWord = (text: string): string => text.trim().split(/\s+/u).at(-1) ?? '';
