import { CHEESE_TYPES } from '../../config/schema.js';

/** A real cheese type (never CHEESE_TYPE_UNSPECIFIED). */
export type CheeseTypeName = (typeof CHEESE_TYPES)[number];

const NAMES: ReadonlySet<string> = new Set(CHEESE_TYPES);

/** Narrows a decoded enum value (a name, or a number proto-loader could not name) to a real cheese type. */
export function isCheeseType(value: unknown): value is CheeseTypeName {
  return typeof value === 'string' && NAMES.has(value);
}

export { CHEESE_TYPES };
