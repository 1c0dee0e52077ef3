/**
 * Text normalisation before synthesis: numbers, dates, times, units and abbreviations written out as they are
 * spoken, per language. An engine reads "85%" or "01.02.2025" digit by digit or in the wrong case; this turns them
 * into words first. A language without a normaliser is left as it is.
 */

import { normalizeRussian } from './ru/normalize-ru.js';

/** Turns written text into spoken text for one language. */
export type TextNormalizer = (text: string) => string;

/** Normalisers by primary language subtag. Add a language: a folder like `ru/` and one entry here. */
const NORMALIZERS = new Map<string, TextNormalizer>([['ru', normalizeRussian]]);

/** The normaliser for a BCP-47 `languageCode` ("ru", "ru-RU"), or undefined when the language has none. */
export function normalizerFor(languageCode: string): TextNormalizer | undefined {
  return NORMALIZERS.get(languageCode.split('-')[0]!.toLowerCase());
}

/** `text` as it should be spoken in `languageCode`; unchanged for a language without a normaliser. */
export function normalizeText(text: string, languageCode: string): string {
  const normalize = normalizerFor(languageCode);
  return normalize ? normalize(text) : text;
}
