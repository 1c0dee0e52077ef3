import { CheeseType, type CheeseType__Output } from '../../generated/cheesefarm/v1/CheeseType.js';

/** A real cheese type (never CHEESE_TYPE_UNSPECIFIED). */
export type CheeseTypeName = Exclude<CheeseType__Output, 'CHEESE_TYPE_UNSPECIFIED'>;

const isReal = (name: CheeseType__Output): name is CheeseTypeName => name !== CheeseType.CHEESE_TYPE_UNSPECIFIED;

/**
 * Every real cheese type, in the proto's order, from the generated enum (proto/cheesefarm/v1/cheese.proto is the
 * one list: config, validation and the CLI read it here). Typed as a non-empty tuple for `z.enum`; the proto
 * declares types besides UNSPECIFIED, which the unit test of this module checks.
 */
export const CHEESE_TYPES = Object.values(CheeseType).filter(isReal) as readonly CheeseTypeName[] as readonly [CheeseTypeName, ...CheeseTypeName[]];

const NAMES: ReadonlySet<string> = new Set(CHEESE_TYPES);

/** Narrows a decoded enum value (a name, or a number proto-loader could not name) to a real cheese type. */
export function isCheeseType(value: unknown): value is CheeseTypeName {
  return typeof value === 'string' && NAMES.has(value);
}
