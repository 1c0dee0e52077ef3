/**
 * The language to speak a text in when the request names neither a voice nor a language: from the script most of
 * its letters are written in. One row per script; the first language of a row that some voice speaks is used.
 */

/** Scripts and the languages to try for them, in order (BCP-47). Latin text keeps the configured default language. */
export const SCRIPT_LANGUAGES: readonly { script: RegExp; languages: readonly string[] }[] = [
  { script: /\p{Script=Cyrillic}/u, languages: ['ru'] },
  { script: /\p{Script=Greek}/u, languages: ['el'] },
  { script: /\p{Script=Armenian}/u, languages: ['hy'] },
  { script: /\p{Script=Georgian}/u, languages: ['ka'] },
  { script: /\p{Script=Hebrew}/u, languages: ['he'] },
  { script: /\p{Script=Arabic}/u, languages: ['ar'] },
  { script: /\p{Script=Devanagari}/u, languages: ['hi'] },
  { script: /\p{Script=Bengali}/u, languages: ['bn'] },
  { script: /\p{Script=Tamil}/u, languages: ['ta'] },
  { script: /\p{Script=Thai}/u, languages: ['th'] },
  { script: /\p{Script=Hangul}/u, languages: ['ko'] },
  { script: /[\p{Script=Hiragana}\p{Script=Katakana}]/u, languages: ['ja'] },
  { script: /\p{Script=Han}/u, languages: ['cmn', 'yue'] },
];

/**
 * The language for `text`: the row whose script has the most letters in it, when some language of that row is
 * speakable (`speakable(code)`); otherwise `fallback` (Latin text, digits only, or a script no voice speaks).
 */
export function languageForText(text: string, fallback: string, speakable: (code: string) => boolean): string {
  const counts = new Array<number>(SCRIPT_LANGUAGES.length).fill(0);
  let latin = 0;
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    if (/\p{Script=Latin}/u.test(ch)) {
      latin++;
      continue;
    }
    const row = SCRIPT_LANGUAGES.findIndex((r) => r.script.test(ch));
    if (row >= 0) counts[row]!++;
  }
  const best = counts.reduce((b, n, i) => (n > counts[b]! ? i : b), 0);
  if (counts[best]! === 0 || counts[best]! < latin) return fallback;
  return SCRIPT_LANGUAGES[best]!.languages.find(speakable) ?? fallback;
}
