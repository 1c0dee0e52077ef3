/**
 * Russian text as it is spoken: numbers (thousands separators, decimals, signs), units and currencies, dates, times,
 * years, written ordinals ("5-й") and common abbreviations, with the numeral in the gender of its noun and the case
 * a preceding preposition asks for. The rules are the tables in rules-ru.ts; cardinals come from numeralize-ru.
 */

import { Case, Gender, numeralize, pluralize } from 'numeralize-ru';

import { ordinalRu } from './ordinal-ru.js';
import {
  ABBREVIATIONS,
  DATE_NOMINATIVE_AFTER,
  MONTHS_GENITIVE,
  NOUN_GENDER,
  ORDINAL_SUFFIXES,
  PREFIX_UNITS,
  PREPOSITION_CASE,
  UNITS,
  type RuCase,
  type RuUnit,
} from './rules-ru.js';

const CASES: Record<RuCase, Case> = {
  nom: Case.Nominative,
  gen: Case.Genitive,
  dat: Case.Dative,
  acc: Case.Accusative,
  ins: Case.Instrumental,
  prep: Case.Prepositional,
};
const GENDERS = { m: Gender.Masculine, f: Gender.Feminine, n: Gender.Neuter } as const;
/** Larger integers are left to the engine (numeralize works in doubles). */
const MAX_SPOKEN = 999_999_999_999;

/** The cardinal of `n`; "тысяча", not "одна тысяча", as people say it. */
function cardinal(n: number, gender: 'm' | 'f' | 'n' = 'm', kase: RuCase = 'nom'): string {
  return numeralize(n, GENDERS[gender], CASES[kase]).replace(/^(одна|одну|одной) (тысяч)/u, '$2');
}

/** The word right before `index`, lower case. */
function wordBefore(text: string, index: number): string | undefined {
  return /(\p{L}+)\s*$/u.exec(text.slice(Math.max(0, index - 24), index))?.[1]?.toLowerCase();
}

/** The case the word right before `index` puts a numeral in, nominative when it is no known preposition. */
function caseBefore(text: string, index: number): RuCase {
  const word = wordBefore(text, index);
  return (word && PREPOSITION_CASE.get(word)) || 'nom';
}

/** Like {@link caseBefore}, plus "в"/"на"/"о" with the prepositional, for names ("в РФ"), which cannot mean a time or count. */
function nameCaseBefore(text: string, index: number): RuCase {
  const word = wordBefore(text, index);
  return word === 'в' || word === 'во' || word === 'на' ? 'prep' : caseBefore(text, index);
}

/** The case of a date's day: a preposition's, the nominative where the date is named, else the genitive ("when"). */
function dateCase(text: string, index: number): RuCase {
  const kase = caseBefore(text, index);
  if (kase !== 'nom') return kase;
  const word = wordBefore(text, index);
  return word && DATE_NOMINATIVE_AFTER.has(word)
    ? 'nom'
    : /^\s*$/.test(text.slice(0, index)) &&
        !/\p{L}/u.test(
          text.slice(index).replace(/^[\d.\s]+|(января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря|года|г\.)/gu, ''),
        )
      ? 'nom'
      : 'gen';
}

/**
 * A number right after a verb is its object, in the accusative ("переводим тысячу", "получил одну"): a guess from
 * common verb endings; it only changes "одна"/"тысяча" to "одну"/"тысячу".
 */
function numeralCase(text: string, index: number): RuCase {
  const kase = caseBefore(text, index);
  if (kase !== 'nom') return kase;
  const word = wordBefore(text, index);
  return word && word.length > 3 && /(ем|им|ём|ете|ите|ет|ит|ёт|ют|ят|ут|ать|ять|ить|еть|ти|те|ал|ял|ил|ла|ли)$/u.test(word) ? 'acc' : 'nom';
}

/** The noun form after `count` in `kase`: after a decimal the genitive singular. */
function nounForm(forms: readonly [string, string, string], count: number, decimal: boolean, kase: RuCase): string {
  if (decimal) return forms[1];
  if (kase === 'nom' || kase === 'acc') return pluralize(count, forms[0], forms[1], forms[2]);
  return count % 10 === 1 && count % 100 !== 11 ? forms[1] : forms[2];
}

/** A fraction word ("десятая", "сотых") or "целая"/"целых" for `count` in `kase`. */
function fractionWord(stem: string, count: number, kase: RuCase): string {
  const one = count % 10 === 1 && count % 100 !== 11;
  if (one) return stem + (kase === 'nom' ? 'ая' : kase === 'acc' ? 'ую' : 'ой');
  return stem + (kase === 'dat' ? 'ым' : kase === 'ins' ? 'ыми' : 'ых');
}
const DENOMINATORS = ['', 'десят', 'сот', 'тысячн', 'десятитысячн', 'стотысячн', 'миллионн'];

/** "3,5" as "три целых пять десятых" in `kase`. */
function decimal(whole: string, fraction: string, kase: RuCase): string {
  const w = Number(whole);
  const f = Number(fraction);
  const stem = DENOMINATORS[fraction.length];
  if (!stem) return `${cardinal(w, 'm', kase)} запятая ${[...fraction].map((d) => cardinal(Number(d))).join(' ')}`;
  return `${cardinal(w, 'f', kase)} ${fractionWord('цел', w, kase)} ${cardinal(f, 'f', kase)} ${fractionWord(stem, f, kase)}`;
}

function nounGender(word: string | undefined): 'm' | 'f' | 'n' {
  if (!word) return 'm';
  const lower = word.toLowerCase();
  return NOUN_GENDER.find(([re]) => re.test(lower))?.[1] ?? 'm';
}

const UNIT_BY_SPELLING = new Map(UNITS);
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/$]/g, '\\$&');
const UNIT_PATTERN = [...UNIT_BY_SPELLING.keys()]
  .sort((a, b) => b.length - a.length)
  .map(escapeRegExp)
  .join('|');
const MONTH_PATTERN = MONTHS_GENITIVE.join('|');

/** Spoken form of a signed number with an optional unit, in `kase`, agreeing with `nextWord` when there is no unit. */
function numberWithUnit(sign: string, number: string, unit: RuUnit | undefined, kase: RuCase, nextWord: string | undefined): string {
  const parts: string[] = [];
  if (/[-−]/.test(sign)) parts.push('минус');
  else if (sign.includes('+')) parts.push('плюс');
  const m = /^(\d+)(?:[.,](\d+))?$/.exec(number)!;
  const isDecimal = m[2] !== undefined;
  const whole = Number(m[1]);
  if (!isDecimal && whole > MAX_SPOKEN) return `${sign}${number}${unit ? ` ${unit.forms[2]}` : ''}`;
  const gender = unit ? unit.gender : nounGender(nextWord);
  parts.push(isDecimal ? decimal(m[1]!, m[2]!, kase) : cardinal(whole, gender, kase));
  if (unit) {
    parts.push(nounForm(unit.forms, whole, isDecimal, kase));
    if (unit.after) parts.push(unit.after);
  }
  return parts.join(' ');
}

type Rule = (text: string) => string;

const RULES: Rule[] = [
  // Thousands separated by spaces (also no-break and narrow no-break): "1 234 567".
  (t) =>
    t.replace(
      /(?<![\d.,])(\d{1,3})((?:[ \u00a0\u202f]\d{3})+)(?![\d])(?![.,]\d)/gu,
      (_, head: string, rest: string) => head + rest.replace(/[ \u00a0\u202f]/gu, ''),
    ),
  // Dates: "01.02.2025" -> "первое февраля две тысячи двадцать пятого года".
  (t) =>
    t.replace(
      /(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d]|\.\d)(\s*(?:года|г\.))?/gu,
      (all, d: string, mo: string, y: string, _w, offset: number, whole: string) => {
        const day = Number(d);
        const month = Number(mo);
        if (day < 1 || day > 31 || month < 1 || month > 12) return all;
        return `${ordinalRu(day, { gender: 'n', case: dateCase(whole, offset) })} ${MONTHS_GENITIVE[month - 1]} ${ordinalRu(Number(y), { gender: 'm', case: 'gen' })} года`;
      },
    ),
  // Times: "10:30" -> "десять часов тридцать минут".
  (t) =>
    t.replace(/(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])/gu, (_, h: string, mi: string, offset: number, whole: string) => {
      const kase = caseBefore(whole, offset);
      const hours = Number(h);
      const minutes = Number(mi);
      const spoken = [cardinal(hours, 'm', kase), nounForm(['час', 'часа', 'часов'], hours, false, kase)];
      if (minutes > 0) spoken.push(cardinal(minutes, 'f', kase), nounForm(['минута', 'минуты', 'минут'], minutes, false, kase));
      return spoken.join(' ');
    }),
  // A day before a month: "15 марта" -> "пятнадцатое марта" (the case from a preposition: "до пятнадцатого марта").
  (t) =>
    t.replace(
      new RegExp(`(?<![\\d.,])(\\d{1,2})(\\s+)(${MONTH_PATTERN})(?!\\p{L})`, 'gu'),
      (all, d: string, space: string, month: string, offset: number, whole: string) => {
        const day = Number(d);
        if (day < 1 || day > 31) return all;
        return `${ordinalRu(day, { gender: 'n', case: dateCase(whole, offset) })}${space}${month}`;
      },
    ),
  // Years: "2024 года", "в 2024 году", "2024 г." -> ordinals.
  (t) =>
    t.replace(/(?<![\d.,])(\d{1,4})\s*(годом|года|году|год|гг?\.)(?!\p{L})/gu, (_, y: string, word: string, offset: number, whole: string) => {
      const before = caseBefore(whole, offset);
      const kase: RuCase = word === 'годом' ? 'ins' : word === 'году' ? (before === 'dat' ? 'dat' : 'prep') : word === 'год' ? 'nom' : 'gen';
      const noun = word.endsWith('.') ? (word === 'гг.' ? 'годов' : 'года') : word;
      return `${ordinalRu(Number(y), { gender: 'm', case: kase })} ${noun}`;
    }),
  // Written ordinals: "5-й", "15-го", "3-я".
  (t) =>
    t.replace(/(?<![\d.,])(\d+)-(ого|ому|ый|ий|ой|ая|ое|ых|ую|го|му|ом|й|я|е|м|х|ю)(?!\p{L})/gu, (all, n: string, suffix: string) => {
      const form = ORDINAL_SUFFIXES.get(suffix);
      const value = Number(n);
      return form && value > 0 && value <= MAX_SPOKEN ? ordinalRu(value, form) : all;
    }),
  // Abbreviations, in the case a preposition before them asks for.
  (t) =>
    ABBREVIATIONS.reduce(
      (text, a) =>
        text.replace(a.written, (_match: string, ...args: unknown[]) => {
          const whole = args.at(-1) as string;
          const offset = args.at(-2) as number;
          return a.spoken[nameCaseBefore(whole, offset)] ?? a.spoken.nom;
        }),
      t,
    ),
  // Numbers, with a sign, a currency sign before or a unit after.
  (t) =>
    t.replace(
      new RegExp(`(?<![\\p{L}\\d.,])([-−+]\\s?)?([$€₽]\\s?)?(\\d+(?:[.,]\\d+)?)(?![.,]?\\d)(?:\\s?(${UNIT_PATTERN})(?!\\p{L}))?`, 'gu'),
      (_, sign: string | undefined, prefix: string | undefined, number: string, unitText: string | undefined, offset: number, whole: string) => {
        const prefixUnit = prefix?.trim();
        const unit =
          (unitText ? UNIT_BY_SPELLING.get(unitText) : undefined) ??
          (prefixUnit && PREFIX_UNITS.has(prefixUnit) ? UNIT_BY_SPELLING.get(prefixUnit) : undefined);
        const after = whole.slice(offset + _.length);
        const nextWord = /^\s+(\p{L}+)/u.exec(after)?.[1];
        return numberWithUnit(sign ?? '', number, unit, numeralCase(whole, offset), nextWord);
      },
    ),
  (t) => t.replace(/[ \t]{2,}/g, ' '),
];

/** Russian text as it is spoken (see the module comment). Text without digits or abbreviations comes back unchanged. */
export function normalizeRussian(text: string): string {
  return RULES.reduce((t, rule) => rule(t), text);
}
