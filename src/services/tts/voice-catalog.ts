/**
 * The voices of all engines as one catalogue: listing with a language filter, and choosing the voice for a request
 * from a name, a language and a preferred gender.
 */

import { quoteValue } from '../../../interceptors/bounded-text.js';
import { invalidField, notFound } from '../../errors.js';
import type { EngineVoice, TtsEngine, VoiceGender } from '../../engines/tts-engine.js';

/** A voice and the engine that speaks it. */
export interface CatalogVoice extends EngineVoice {
  /** Engine that synthesises it. */
  engineRef: TtsEngine;
  /** Position of the engine in the configured order (earlier engines win ties). */
  engineRank: number;
}

const LANGUAGE_CODE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/** How well a voice language fits a requested code: 0 exact, 1 requested is broader ("en" for "en-US"), 2 voice is broader, undefined no fit. */
function languageFit(voiceCode: string, requested: string): number | undefined {
  const v = voiceCode.toLowerCase();
  const r = requested.toLowerCase();
  if (v === r) return 0;
  if (v.startsWith(`${r}-`)) return 1;
  if (r.startsWith(`${v}-`)) return 2;
  return undefined;
}

/** Voices of several engines; built after the engines started. */
export class VoiceCatalog {
  private readonly voices: CatalogVoice[] = [];
  private readonly byName = new Map<string, CatalogVoice>();

  /** @param engines started engines, in order of preference */
  constructor(engines: readonly TtsEngine[]) {
    engines.forEach((engine, engineRank) => {
      for (const voice of engine.voices()) {
        // Names are unique per engine; a clash across engines gets the engine name in front.
        const name = this.byName.has(voice.name) ? `${engine.name}:${voice.name}` : voice.name;
        const entry: CatalogVoice = { ...voice, name, engineRef: engine, engineRank };
        this.voices.push(entry);
        this.byName.set(name, entry);
      }
    });
  }

  /** Answers of `list` by language code: the catalog never changes, so each is computed once (bounded: codes are client input). */
  private readonly listed = new Map<string, readonly CatalogVoice[]>();

  /**
   * Every voice, or those that speak `languageCode`: the code itself or a region of it ("en" lists en-US and en-GB
   * voices; "en-US" lists only voices that speak en-US, not an en-GB voice that also says "en"). The same frozen
   * array for the same code: ListVoices is a hot, cheap call.
   */
  list(languageCode: string): readonly CatalogVoice[] {
    const known = this.listed.get(languageCode);
    if (known !== undefined) return known;
    const code = languageCode.trim();
    if (code) checkLanguageCode(code, 'language_code');
    const voices = Object.freeze(
      code
        ? this.voices.filter((v) =>
            v.languages.some((l) => {
              const fit = languageFit(l.code, code);
              return fit === 0 || fit === 1;
            }),
          )
        : [...this.voices],
    );
    if (this.listed.size >= 256) this.listed.clear();
    this.listed.set(languageCode, voices);
    return voices;
  }

  /** Whether some voice can be selected for `languageCode` (as `select` would find one). */
  speaks(languageCode: string): boolean {
    return this.voices.some((v) => v.languages.some((l) => languageFit(l.code, languageCode) !== undefined));
  }

  /**
   * The voice for a request: `name` wins; otherwise the best voice for `languageCode` (exact language first, then
   * the requested gender when some voice that fits as well has it, then engine order, then the engine's priority).
   * Throws NOT_FOUND for an unknown name or a language no voice speaks.
   */
  select(name: string, languageCode: string, gender: VoiceGender | undefined): CatalogVoice {
    if (name) {
      const voice = this.byName.get(name) ?? this.voices.find((v) => v.name.toLowerCase() === name.toLowerCase());
      if (!voice) {
        throw notFound('VOICE_NOT_FOUND', `voice ${quoteValue(name)} does not exist; ListVoices shows the ${this.voices.length} voices available`);
      }
      return voice;
    }
    checkLanguageCode(languageCode, 'voice.language_code');
    const scored: { voice: CatalogVoice; score: number[] }[] = [];
    for (const voice of this.voices) {
      let best: number[] | undefined;
      for (const l of voice.languages) {
        const fit = languageFit(l.code, languageCode);
        if (fit === undefined) continue;
        const score = [fit, voice.engineRank, l.priority];
        if (!best || compare(score, best) < 0) best = score;
      }
      // How well the language fits comes first, then gender (a preference), then engine order and priority.
      if (best) scored.push({ voice, score: [best[0]!, gender && voice.gender !== gender ? 1 : 0, ...best.slice(1)] });
    }
    if (scored.length === 0) {
      throw notFound('LANGUAGE_NOT_SUPPORTED', `no voice speaks language_code ${quoteValue(languageCode)}; ListVoices shows the languages available`);
    }
    scored.sort((a, b) => compare(a.score, b.score));
    return scored[0]!.voice;
  }
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function checkLanguageCode(code: string, field: string): void {
  if (!LANGUAGE_CODE.test(code)) {
    throw invalidField(field, `${quoteValue(code)} is not a BCP-47 language code such as "en-US" or "ru"`);
  }
}
