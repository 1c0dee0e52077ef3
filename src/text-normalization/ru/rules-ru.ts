/** The data the Russian normaliser works from: months, units, abbreviations and the case prepositions govern. */

/** Grammatical case, as the normaliser uses it. */
export type RuCase = 'nom' | 'gen' | 'dat' | 'acc' | 'ins' | 'prep';

/** Months in the genitive ("15 марта"), January first. */
export const MONTHS_GENITIVE = ['января', 'февраля', 'марта', 'апреля', 'мая', 'июня', 'июля', 'августа', 'сентября', 'октября', 'ноября', 'декабря'];

/**
 * Words after which a date is named, in the nominative ("сегодня пятнадцатое марта"). Elsewhere a date says when
 * something happens, in the genitive ("встреча пятнадцатого марта").
 */
export const DATE_NOMINATIVE_AFTER = new Set([
  'сегодня',
  'завтра',
  'вчера',
  'послезавтра',
  'позавчера',
  'это',
  'был',
  'была',
  'было',
  'будет',
  'наступило',
  'наступит',
  'дата',
  'число',
]);

/** The case a preposition puts a following numeral in ("до пяти", "к пятнадцатому", "о пяти"). */
export const PREPOSITION_CASE = new Map<string, RuCase>([
  ...['до', 'от', 'с', 'со', 'после', 'около', 'более', 'менее', 'свыше', 'из', 'для', 'без', 'у', 'кроме', 'против', 'вместо', 'среди'].map(
    (p) => [p, 'gen'] as [string, RuCase],
  ),
  // "по" takes the dative only with one ("по одному"); "по пять рублей" is the accusative, so it is left out.
  ...['к', 'ко'].map((p) => [p, 'dat'] as [string, RuCase]),
  ...['о', 'об', 'при'].map((p) => [p, 'prep'] as [string, RuCase]),
]);

/** A unit written after (or a currency sign before) a number: its noun's forms for 1, 2 and 5, gender, and words after. */
export interface RuUnit {
  /** Forms for one ("процент"), two ("процента", also the genitive singular) and five ("процентов", also the genitive plural). */
  forms: [string, string, string];
  /** Gender of the noun, for "одна"/"две" with feminine nouns. */
  gender: 'm' | 'f' | 'n';
  /** Words that follow the noun unchanged ("Цельсия"). */
  after?: string;
}

/** Units by how they are written. Longer spellings first, so "км/ч" wins over "км". */
export const UNITS: readonly [string, RuUnit][] = [
  ['°C', { forms: ['градус', 'градуса', 'градусов'], gender: 'm', after: 'Цельсия' }],
  ['°С', { forms: ['градус', 'градуса', 'градусов'], gender: 'm', after: 'Цельсия' }], // Cyrillic С
  ['°F', { forms: ['градус', 'градуса', 'градусов'], gender: 'm', after: 'Фаренгейта' }],
  ['°', { forms: ['градус', 'градуса', 'градусов'], gender: 'm' }],
  ['%', { forms: ['процент', 'процента', 'процентов'], gender: 'm' }],
  ['км/ч', { forms: ['километр', 'километра', 'километров'], gender: 'm', after: 'в час' }],
  ['км', { forms: ['километр', 'километра', 'километров'], gender: 'm' }],
  ['кг', { forms: ['килограмм', 'килограмма', 'килограммов'], gender: 'm' }],
  ['мм', { forms: ['миллиметр', 'миллиметра', 'миллиметров'], gender: 'm' }],
  ['см', { forms: ['сантиметр', 'сантиметра', 'сантиметров'], gender: 'm' }],
  ['м', { forms: ['метр', 'метра', 'метров'], gender: 'm' }],
  ['г', { forms: ['грамм', 'грамма', 'граммов'], gender: 'm' }],
  ['л', { forms: ['литр', 'литра', 'литров'], gender: 'm' }],
  ['₽', { forms: ['рубль', 'рубля', 'рублей'], gender: 'm' }],
  ['руб.', { forms: ['рубль', 'рубля', 'рублей'], gender: 'm' }],
  ['руб', { forms: ['рубль', 'рубля', 'рублей'], gender: 'm' }],
  ['коп.', { forms: ['копейка', 'копейки', 'копеек'], gender: 'f' }],
  ['$', { forms: ['доллар', 'доллара', 'долларов'], gender: 'm' }],
  ['€', { forms: ['евро', 'евро', 'евро'], gender: 'n' }],
  ['тыс.', { forms: ['тысяча', 'тысячи', 'тысяч'], gender: 'f' }],
  ['млн', { forms: ['миллион', 'миллиона', 'миллионов'], gender: 'm' }],
  ['млрд', { forms: ['миллиард', 'миллиарда', 'миллиардов'], gender: 'm' }],
  ['шт.', { forms: ['штука', 'штуки', 'штук'], gender: 'f' }],
];

/** Currency signs that may stand before the number ("$5"). */
export const PREFIX_UNITS = new Set(['$', '€', '₽']);

/** Stems of common feminine and neuter nouns, so "1 минута" is "одна минута" and "2 места" "два места". */
export const NOUN_GENDER: readonly [RegExp, 'f' | 'n'][] = [
  [
    /^(минут|секунд|тысяч|недел|копе|штук|книг|машин|страниц|комнат|квартир|строк|задач|попытк|попыток|попытки|ошибк|ошибок|ночь|ночи|ноч|верст|тонн|единиц|женщин|девушк|девоч|сестр|мам|бутылк|бутылок|чашк|чашек|кружк|порци|серии|серия|сери|глав|точк|точек|звезд|звёзд|линии|линия|лини|позици|станци|категори|групп|команд|карт|монет|игр|цифр|буквы|буква|букв|стать|стран|недели|неделя|минуты|минута|секунды|секунда|рубашк)/u,
    'f',
  ],
  [/^(мест|окн|яблок|слов|врем|письм|сообщени|задани|упражнени|колес|очк|дел|сердц|окошк|утр|лет[оа]|блюд)/u, 'n'],
];

/** An abbreviation and what it says in each case (nominative if only one form is given). */
export interface RuAbbreviation {
  /** How it is written, matched as a whole word. */
  written: RegExp;
  /** Spoken forms; `nom` is used where no other form is given or no preposition decides. */
  spoken: Partial<Record<RuCase, string>> & { nom: string };
}

/** Abbreviations, read out in the case a preceding preposition asks for. */
export const ABBREVIATIONS: readonly RuAbbreviation[] = [
  { written: /т\.\s?е\./gu, spoken: { nom: 'то есть' } },
  { written: /т\.\s?д\./gu, spoken: { nom: 'так далее' } },
  { written: /т\.\s?п\./gu, spoken: { nom: 'тому подобное' } },
  { written: /т\.\s?к\./gu, spoken: { nom: 'так как' } },
  { written: /и\s?др\./gu, spoken: { nom: 'и другие' } },
  { written: /(?<=\s|^)г\.(?=\s?\p{Lu})/gu, spoken: { nom: 'город', gen: 'города', prep: 'городе', dat: 'городу' } },
  { written: /(?<=\s|^)д\.(?=\s?\d)/gu, spoken: { nom: 'дом', gen: 'дома', prep: 'доме', dat: 'дому' } },
  { written: /(?<=\s|^)ул\./gu, spoken: { nom: 'улица', gen: 'улицы', prep: 'улице', dat: 'улице' } },
  { written: /(?<=\s|^)кв\.(?=\s?\d)/gu, spoken: { nom: 'квартира', gen: 'квартиры', prep: 'квартире', dat: 'квартире' } },
  { written: /(?<=\s|^)им\./gu, spoken: { nom: 'имени' } },
  { written: /№\s?/gu, spoken: { nom: 'номер ' } },
  {
    written: /(?<![\p{L}])ООО(?![\p{L}])/gu,
    spoken: {
      nom: 'общество с ограниченной ответственностью',
      gen: 'общества с ограниченной ответственностью',
      prep: 'обществе с ограниченной ответственностью',
      dat: 'обществу с ограниченной ответственностью',
    },
  },
  {
    written: /(?<![\p{L}])РФ(?![\p{L}])/gu,
    spoken: { nom: 'Российская Федерация', gen: 'Российской Федерации', prep: 'Российской Федерации', dat: 'Российской Федерации' },
  },
  {
    written: /(?<![\p{L}])США(?![\p{L}])/gu,
    spoken: {
      nom: 'Соединённые Штаты Америки',
      gen: 'Соединённых Штатов Америки',
      prep: 'Соединённых Штатах Америки',
      dat: 'Соединённым Штатам Америки',
    },
  },
];

/** Ordinal endings written after a hyphen ("5-й", "15-го") and the form they stand for. */
export const ORDINAL_SUFFIXES = new Map<string, { gender: 'm' | 'f' | 'n' | 'pl'; case: RuCase }>([
  ['й', { gender: 'm', case: 'nom' }],
  ['ый', { gender: 'm', case: 'nom' }],
  ['ий', { gender: 'm', case: 'nom' }],
  ['ой', { gender: 'm', case: 'nom' }],
  ['я', { gender: 'f', case: 'nom' }],
  ['ая', { gender: 'f', case: 'nom' }],
  ['е', { gender: 'n', case: 'nom' }],
  ['ое', { gender: 'n', case: 'nom' }],
  ['го', { gender: 'm', case: 'gen' }],
  ['ого', { gender: 'm', case: 'gen' }],
  ['му', { gender: 'm', case: 'dat' }],
  ['ому', { gender: 'm', case: 'dat' }],
  ['м', { gender: 'm', case: 'prep' }],
  ['ом', { gender: 'm', case: 'prep' }],
  ['х', { gender: 'pl', case: 'gen' }],
  ['ых', { gender: 'pl', case: 'gen' }],
  ['ю', { gender: 'f', case: 'acc' }],
  ['ую', { gender: 'f', case: 'acc' }],
]);
