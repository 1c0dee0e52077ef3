/**
 * Russian ordinal numerals ("двадцать четвёртого") in any gender and the cases dates and years need. numeralize-ru
 * writes cardinals only; an ordinal is the cardinal of everything but its last part plus that part as an adjective.
 */

import { Case, Gender, numeralize } from 'numeralize-ru';

/** Grammatical form of an ordinal: gender (or plural) and case. */
export type OrdinalForm = { gender: 'm' | 'f' | 'n' | 'pl'; case: 'nom' | 'gen' | 'dat' | 'acc' | 'ins' | 'prep' };

// Stems of the last part, by value. Stems marked with "*" take stressed endings (второй, not вторый).
const STEMS = new Map<number, string>([
  [1, 'перв'],
  [2, 'втор*'],
  [3, 'трет'],
  [4, 'четвёрт'],
  [5, 'пят'],
  [6, 'шест*'],
  [7, 'седьм*'],
  [8, 'восьм*'],
  [9, 'девят'],
  [10, 'десят'],
  [11, 'одиннадцат'],
  [12, 'двенадцат'],
  [13, 'тринадцат'],
  [14, 'четырнадцат'],
  [15, 'пятнадцат'],
  [16, 'шестнадцат'],
  [17, 'семнадцат'],
  [18, 'восемнадцат'],
  [19, 'девятнадцат'],
  [20, 'двадцат'],
  [30, 'тридцат'],
  [40, 'сороков*'],
  [50, 'пятидесят'],
  [60, 'шестидесят'],
  [70, 'семидесят'],
  [80, 'восьмидесят'],
  [90, 'девяност'],
  [100, 'сот'],
  [200, 'двухсот'],
  [300, 'трёхсот'],
  [400, 'четырёхсот'],
  [500, 'пятисот'],
  [600, 'шестисот'],
  [700, 'семисот'],
  [800, 'восьмисот'],
  [900, 'девятисот'],
]);
/** Genitive prefixes for round thousands: двухтысячный, пятитысячный. */
const THOUSANDS_PREFIX = ['', '', 'двух', 'трёх', 'четырёх', 'пяти', 'шести', 'семи', 'восьми', 'девяти', 'десяти'];

const HARD_ENDINGS: Record<OrdinalForm['case'], Record<OrdinalForm['gender'], string>> = {
  nom: { m: 'ый', f: 'ая', n: 'ое', pl: 'ые' },
  gen: { m: 'ого', f: 'ой', n: 'ого', pl: 'ых' },
  dat: { m: 'ому', f: 'ой', n: 'ому', pl: 'ым' },
  acc: { m: 'ый', f: 'ую', n: 'ое', pl: 'ые' },
  ins: { m: 'ым', f: 'ой', n: 'ым', pl: 'ыми' },
  prep: { m: 'ом', f: 'ой', n: 'ом', pl: 'ых' },
};
const THIRD: Record<OrdinalForm['case'], Record<OrdinalForm['gender'], string>> = {
  nom: { m: 'третий', f: 'третья', n: 'третье', pl: 'третьи' },
  gen: { m: 'третьего', f: 'третьей', n: 'третьего', pl: 'третьих' },
  dat: { m: 'третьему', f: 'третьей', n: 'третьему', pl: 'третьим' },
  acc: { m: 'третий', f: 'третью', n: 'третье', pl: 'третьи' },
  ins: { m: 'третьим', f: 'третьей', n: 'третьим', pl: 'третьими' },
  prep: { m: 'третьем', f: 'третьей', n: 'третьем', pl: 'третьих' },
};

function adjective(stem: string, form: OrdinalForm): string {
  if (stem === 'трет') return THIRD[form.case][form.gender];
  const stressed = stem.endsWith('*');
  const base = stressed ? stem.slice(0, -1) : stem;
  let ending = HARD_ENDINGS[form.case][form.gender];
  if (stressed && ending === 'ый') ending = 'ой';
  return base + ending;
}

/** The ordinal of `n` (0 < n < 10^9) in `form`, e.g. 2024 genitive masculine: "две тысячи двадцать четвёртого". */
export function ordinalRu(n: number, form: OrdinalForm): string {
  if (!Number.isInteger(n) || n <= 0) return numeralize(Math.abs(Math.trunc(n)));
  if (n % 1000 === 0) {
    const thousands = (n / 1000) % 1000;
    const rest = n - thousands * 1000;
    const head = rest > 0 ? `${numeralize(rest)} ` : '';
    if (thousands < THOUSANDS_PREFIX.length) return `${head}${adjective(`${THOUSANDS_PREFIX[thousands]}тысячн`, form)}`;
    return `${head}${numeralize(thousands, Gender.Feminine, Case.Genitive).replace(/ /g, '')}${adjective('тысячн', form)}`;
  }
  const lastTwo = n % 100;
  let part: number;
  if (lastTwo === 0) part = n % 1000;
  else if (lastTwo < 20 || lastTwo % 10 === 0) part = lastTwo;
  else part = lastTwo % 10;
  const rest = n - part;
  const word = adjective(STEMS.get(part)!, form);
  // Only the last word declines; the rest is the cardinal, said "тысяча девятьсот", not "одна тысяча девятьсот".
  return rest > 0 ? `${numeralize(rest).replace(/^одна (тысяч)/u, '$1')} ${word}` : word;
}
