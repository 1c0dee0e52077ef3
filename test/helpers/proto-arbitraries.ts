import fc from 'fast-check';
import protobuf from 'protobufjs';

/** Strings a service may treat specially: object prototype names, format characters, long and wide text. */
const NASTY_STRINGS = [
  '',
  ' ',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '{',
  '}',
  '{}',
  '{x}',
  '{{x}}',
  '%s%n',
  '\u0000',
  '\u200b\u200b',
  '\r\n',
  '../../etc/passwd',
  'en-US',
  'ru',
  'kal16',
  'BRIE',
  'é'.repeat(300),
  'x'.repeat(2000),
  // Template text whose slots are named like Object.prototype members.
  'Say {constructor} now',
  '{toString}',
  'a {__proto__} b',
  '{hasOwnProperty}{valueOf}',
];

/** Options for {@link messageArbitrary}. */
export interface MessageArbitraryOptions {
  /** Nesting depth below which message fields are left out. Default 3. */
  maxDepth?: number;
  /** Longest generated string and bytes value. Default 300. */
  maxLength?: number;
  /** Most elements of a repeated field. Default 4. */
  maxRepeated?: number;
}

/**
 * A fast-check arbitrary of plain objects of `type`, driven by the proto's
 * field types: edge integers, any double (NaN, infinities), unknown enum
 * numbers, strings that stress services (prototype names, control and
 * zero-width characters, long text), random bytes, at most one field per
 * oneof. Encode with `type.encode(value).finish()`.
 */
export function messageArbitrary(type: protobuf.Type, options: MessageArbitraryOptions = {}, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const maxDepth = options.maxDepth ?? 3;
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  const inOneof = new Set<string>();
  for (const oneof of type.oneofsArray) for (const name of oneof.oneof) inOneof.add(name);
  for (const field of type.fieldsArray) {
    if (inOneof.has(field.name)) continue;
    const value = fieldArbitrary(field, options, depth, maxDepth);
    if (value !== undefined) record[field.name] = value;
  }
  const oneofs = type.oneofsArray.map((oneof) => {
    const members = oneof.fieldsArray
      .map((field) => ({ name: field.name, value: fieldArbitrary(field, options, depth, maxDepth) }))
      .filter((m): m is { name: string; value: fc.Arbitrary<unknown> } => m.value !== undefined);
    return fc.oneof(fc.constant({}), ...members.map((m) => m.value.map((v) => ({ [m.name]: v }))));
  });
  return fc
    .tuple(fc.record(record, { requiredKeys: [] }), ...oneofs)
    .map(([base, ...chosen]) => Object.assign({}, base, ...chosen) as Record<string, unknown>);
}

function fieldArbitrary(field: protobuf.Field, options: MessageArbitraryOptions, depth: number, maxDepth: number): fc.Arbitrary<unknown> | undefined {
  field.resolve();
  const single = singleArbitrary(field, options, depth, maxDepth);
  if (single === undefined) return undefined;
  if (field instanceof protobuf.MapField) {
    const key = scalarArbitrary(field.keyType, options);
    if (key === undefined) return undefined;
    return fc.array(fc.tuple(key.map(String), single), { maxLength: options.maxRepeated ?? 4 }).map((entries) => Object.fromEntries(entries));
  }
  return field.repeated ? fc.array(single, { maxLength: options.maxRepeated ?? 4 }) : single;
}

function singleArbitrary(
  field: protobuf.Field,
  options: MessageArbitraryOptions,
  depth: number,
  maxDepth: number,
): fc.Arbitrary<unknown> | undefined {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return depth + 1 >= maxDepth ? undefined : messageArbitrary(resolved, options, depth + 1);
  if (resolved instanceof protobuf.Enum) return fc.oneof(fc.constantFrom(...Object.values(resolved.values)), fc.integer({ min: -5, max: 1000 }));
  return scalarArbitrary(field.type, options);
}

function scalarArbitrary(type: string, options: MessageArbitraryOptions): fc.Arbitrary<unknown> | undefined {
  const maxLength = options.maxLength ?? 300;
  switch (type) {
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.constantFrom(-2147483648, 2147483647, 0, -1));
    case 'uint32':
    case 'fixed32':
      return fc.oneof(fc.nat({ max: 100_000 }), fc.constant(4294967295));
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
    case 'uint64':
    case 'fixed64':
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String);
    case 'bool':
      return fc.boolean();
    case 'double':
    case 'float':
      return fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0, 1, 0.25, 4, 1e308));
    case 'string':
      return fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.constantFrom(...NASTY_STRINGS.filter((s) => s.length <= maxLength * 8)),
      );
    case 'bytes':
      return fc.uint8Array({ maxLength: maxLength * 2 });
    default:
      return undefined;
  }
}

/**
 * Encoded request bytes for `type`: generated messages, valid `seeds` with one field replaced by a generated
 * one (so calls get past validation into the engines), mutations of both, and plain random bytes.
 */
export function requestBytesArbitrary(
  type: protobuf.Type | undefined,
  options: MessageArbitraryOptions = {},
  seeds: readonly Record<string, unknown>[] = [],
): fc.Arbitrary<Uint8Array> {
  const random = fc.uint8Array({ maxLength: 64 });
  if (type === undefined) return random;
  const generated = messageArbitrary(type, options);
  const objects =
    seeds.length === 0
      ? generated
      : fc.oneof(
          generated,
          fc.constantFrom(...seeds),
          fc.tuple(fc.constantFrom(...seeds), generated, fc.nat()).map(([seed, value, pick]) => {
            const keys = Object.keys(value);
            if (keys.length === 0) return seed;
            const key = keys[pick % keys.length]!;
            return { ...seed, [key]: value[key] };
          }),
        );
  const encoded = objects.map((value) => type.encode(type.fromObject(value)).finish());
  const mutated = fc.tuple(encoded, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([bytes, at, byte]) => {
    if (bytes.length === 0) return Uint8Array.of(byte);
    const copy = Uint8Array.from(bytes);
    copy[at % copy.length] = byte;
    return copy;
  });
  return fc.oneof({ arbitrary: encoded, weight: 6 }, { arbitrary: mutated, weight: 2 }, { arbitrary: random, weight: 2 });
}
