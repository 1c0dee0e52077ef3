import protobuf from 'protobufjs';
import { jsonNameOf } from './json-names.js';

/** A request value that does not fit its message type; `field` is the JSON path (`audioConfig.sampleRateHertz`). */
export class JsonMappingError extends Error {
  override readonly name = 'JsonMappingError';
  constructor(
    readonly field: string,
    readonly description: string,
  ) {
    super(`${field || 'body'}: ${description}`);
  }
}

/**
 * The canonical proto3 JSON mapping over protobufjs types built from the
 * descriptors (src/web/api-descriptors.ts). Out: lowerCamelCase names, enums
 * by name, 64-bit integers as strings, bytes as base64, Timestamp as RFC 3339
 * and Duration as `1.5s`, default values left out. In: both the JSON and the
 * original names, enums by name or number, integers as numbers or strings,
 * null as absent; anything else (unknown fields, wrong types, integers out of
 * range) is refused with the field's path.
 */

/** Reads a JSON value (already parsed) into a message of `type`. */
export function messageFromJson(type: protobuf.Type, json: unknown): protobuf.Message {
  return type.fromObject(objectFromJson(type, json, ''));
}

/** Writes a decoded message as its canonical JSON value. */
export function messageToJson(type: protobuf.Type, message: protobuf.Message | Record<string, unknown>): unknown {
  const special = WELL_KNOWN_OUT[type.fullName];
  if (special !== undefined) return special(message as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  const fields = message as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    if (!Object.hasOwn(fields, field.name)) continue;
    const value = fields[field.name];
    if (value === undefined || value === null) continue;
    const hasPresence = field.partOf !== null || (field.resolvedType instanceof protobuf.Type && !field.repeated && !field.map);
    const entryType = mapEntryOf(field);
    if (entryType !== undefined) {
      // A map read from descriptors is a repeated XxxEntry message: JSON makes it an object.
      const entries = value as Record<string, unknown>[];
      if (entries.length === 0) continue;
      const valueField = entryType.fields.value!;
      out[jsonNameOf(field.name)] = Object.fromEntries(
        entries.map((entry) => [String(entry.key ?? ''), valueToJson(valueField, entry.value ?? defaultOf(valueField))]),
      );
    } else if (field.map) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) continue;
      out[jsonNameOf(field.name)] = Object.fromEntries(entries.map(([key, item]) => [key, valueToJson(field, item)]));
    } else if (field.repeated) {
      const items = value as unknown[];
      if (items.length === 0) continue;
      out[jsonNameOf(field.name)] = items.map((item) => valueToJson(field, item));
    } else {
      if (!hasPresence && isDefault(field, value)) continue;
      out[jsonNameOf(field.name)] = valueToJson(field, value);
    }
  }
  return out;
}

function valueToJson(field: protobuf.Field, value: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageToJson(resolved, value as Record<string, unknown>);
  if (resolved instanceof protobuf.Enum) return resolved.valuesById[value as number] ?? value;
  switch (field.type) {
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return String(value);
    case 'bytes':
      return Buffer.from(value as Uint8Array).toString('base64');
    case 'float':
    case 'double':
      if (!Number.isFinite(value)) return String(value) === 'NaN' ? 'NaN' : (value as number) > 0 ? 'Infinity' : '-Infinity';
      return field.type === 'float' ? shortestFloat32(value as number) : value;
    default:
      return value;
  }
}

/** The shortest decimal that reads back as the same 32-bit float (0.33333334, not 0.3333333432674408). */
function shortestFloat32(value: number): number {
  const target = Math.fround(value);
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === target) return candidate;
  }
  return value;
}

/** The entry type of a map field as protoc describes it (a repeated nested `XxxEntry` with map_entry set), else undefined. */
function mapEntryOf(field: protobuf.Field): protobuf.Type | undefined {
  const type = field.resolvedType;
  if (!field.repeated || !(type instanceof protobuf.Type)) return undefined;
  const options = type.options as Record<string, unknown> | undefined;
  const flagged = options?.map_entry === true || options?.mapEntry === true;
  const shaped = type.name.endsWith('Entry') && type.fieldsArray.length === 2 && type.fields.key?.id === 1 && type.fields.value?.id === 2;
  return flagged || shaped ? type : undefined;
}

function defaultOf(field: protobuf.Field): unknown {
  if (field.resolvedType instanceof protobuf.Type) return {};
  if (field.resolvedType instanceof protobuf.Enum) return 0;
  return field.type === 'string' ? '' : field.type === 'bool' ? false : field.type === 'bytes' ? new Uint8Array() : 0;
}

function isDefault(field: protobuf.Field, value: unknown): boolean {
  if (field.resolvedType instanceof protobuf.Enum) return value === 0;
  switch (field.type) {
    case 'string':
      return value === '';
    case 'bytes':
      return (value as Uint8Array).length === 0;
    case 'bool':
      return value === false;
    default:
      return Number(value) === 0 || String(value) === '0';
  }
}

function objectFromJson(type: protobuf.Type, json: unknown, path: string): Record<string, unknown> {
  const special = WELL_KNOWN_IN[type.fullName];
  if (special !== undefined) return special(json, path);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new JsonMappingError(path, `expected a JSON object for ${type.fullName.slice(1)}`);
  }
  const out: Record<string, unknown> = {};
  const byName = fieldsByAnyName(type);
  for (const [key, value] of Object.entries(json)) {
    const field = byName.get(key);
    const fieldPath = path ? `${path}.${key}` : key;
    if (field === undefined) throw new JsonMappingError(fieldPath, `unknown field of ${type.fullName.slice(1)}`);
    if (value === null) continue;
    if (out[field.name] !== undefined) throw new JsonMappingError(fieldPath, 'the field is given twice (under its JSON and its proto name)');
    if (field.partOf !== null) {
      const other = field.partOf.oneof.find((name) => name !== field.name && out[name] !== undefined);
      if (other !== undefined && !isSyntheticOneof(field.partOf))
        throw new JsonMappingError(fieldPath, `only one of ${field.partOf.oneof.map(jsonNameOf).join(', ')} may be set`);
    }
    out[field.name] = fieldFromJson(field, value, fieldPath);
  }
  return out;
}

function isSyntheticOneof(oneof: protobuf.OneOf): boolean {
  return oneof.oneof.length === 1 && oneof.name.startsWith('_');
}

const FIELD_NAMES = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function fieldsByAnyName(type: protobuf.Type): Map<string, protobuf.Field> {
  let names = FIELD_NAMES.get(type);
  if (names === undefined) {
    names = new Map();
    for (const field of type.fieldsArray) {
      names.set(field.name, field);
      names.set(jsonNameOf(field.name), field);
    }
    FIELD_NAMES.set(type, names);
  }
  return names;
}

/** One field's JSON value (also used for path and query parameters, which arrive as strings). */
export function fieldFromJson(field: protobuf.Field, value: unknown, path: string): unknown {
  const entryType = mapEntryOf(field);
  if (entryType !== undefined) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JsonMappingError(path, 'expected a JSON object (a map)');
    const keyField = entryType.fields.key!;
    const valueField = entryType.fields.value!;
    return Object.entries(value).map(([key, item]) => ({
      key: singleFromJson(keyField, key, `${path}.${key}`),
      value: singleFromJson(valueField, item, `${path}.${key}`),
    }));
  }
  if (field.map) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JsonMappingError(path, 'expected a JSON object (a map)');
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, singleFromJson(field, item, `${path}.${key}`)]));
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw new JsonMappingError(path, 'expected a JSON array');
    return value.map((item, index) => singleFromJson(field, item, `${path}[${index}]`));
  }
  return singleFromJson(field, value, path);
}

const INT32 = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  sint32: [-(2 ** 31), 2 ** 31 - 1],
  sfixed32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  fixed32: [0, 2 ** 32 - 1],
} as const;

function singleFromJson(field: protobuf.Field, value: unknown, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return objectFromJson(resolved, value, path);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string' && resolved.values[value] !== undefined) return resolved.values[value];
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    throw new JsonMappingError(path, `expected one of ${Object.keys(resolved.values).join(', ')}`);
  }
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') throw new JsonMappingError(path, 'expected a string');
      return value;
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw new JsonMappingError(path, 'expected true or false');
    case 'bytes':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw new JsonMappingError(path, 'expected base64 bytes');
      return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
    case 'float':
    case 'double': {
      if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) throw new JsonMappingError(path, 'expected a number');
      return number;
    }
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64': {
      const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
      const unsigned = field.type === 'uint64' || field.type === 'fixed64';
      if (typeof text !== 'string' || !(unsigned ? /^\d{1,20}$/ : /^-?\d{1,19}$/).test(text)) {
        throw new JsonMappingError(path, `expected ${unsigned ? 'a non-negative' : 'an'} integer (as a number or a string)`);
      }
      const big = BigInt(text);
      if (unsigned ? big > 0xffffffffffffffffn : big < -(2n ** 63n) || big >= 2n ** 63n)
        throw new JsonMappingError(path, 'out of range for a 64-bit integer');
      return text;
    }
    default: {
      const range = INT32[field.type as keyof typeof INT32];
      const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (range === undefined || typeof number !== 'number' || !Number.isInteger(number)) throw new JsonMappingError(path, 'expected an integer');
      if (number < range[0] || number > range[1]) throw new JsonMappingError(path, `out of range (${range[0]} to ${range[1]})`);
      return number;
    }
  }
}

// Well-known types with a JSON form of their own (only those our protos use).

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

const WELL_KNOWN_IN: Record<string, (json: unknown, path: string) => Record<string, unknown>> = {
  '.google.protobuf.Timestamp': (json, path) => {
    const match = typeof json === 'string' ? RFC3339.exec(json) : null;
    const ms = match ? Date.parse(json as string) : NaN;
    if (match === null || Number.isNaN(ms)) throw new JsonMappingError(path, 'expected an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z');
    const nanos = match[7] ? Number(match[7].slice(1).padEnd(9, '0')) : 0;
    return { seconds: String(Math.floor(ms / 1000)), nanos };
  },
  '.google.protobuf.Duration': (json, path) => {
    const match = typeof json === 'string' ? /^(-)?(\d{1,12})(\.\d{1,9})?s$/.exec(json) : null;
    if (match === null) throw new JsonMappingError(path, 'expected a duration in seconds with an s, e.g. 1.5s');
    const sign = match[1] ? -1 : 1;
    return { seconds: String(sign * Number(match[2])), nanos: sign * (match[3] ? Number(match[3].slice(1).padEnd(9, '0')) : 0) };
  },
};

const WELL_KNOWN_OUT: Record<string, (message: Record<string, unknown>) => unknown> = {
  '.google.protobuf.Timestamp': (message) => {
    const seconds = Number(message.seconds ?? 0);
    const nanos = Number(message.nanos ?? 0);
    const base = new Date(seconds * 1000).toISOString().replace('.000Z', '');
    return `${base}${fraction(nanos)}Z`;
  },
  '.google.protobuf.Duration': (message) => {
    const seconds = Number(message.seconds ?? 0);
    const nanos = Number(message.nanos ?? 0);
    const negative = seconds < 0 || nanos < 0;
    return `${negative ? '-' : ''}${Math.abs(seconds)}${fraction(Math.abs(nanos))}s`;
  },
};

/** 0, 3, 6 or 9 fractional digits, as the mapping asks. */
function fraction(nanos: number): string {
  if (nanos === 0) return '';
  const digits = String(nanos).padStart(9, '0');
  return `.${digits.endsWith('000000') ? digits.slice(0, 3) : digits.endsWith('000') ? digits.slice(0, 6) : digits}`;
}
