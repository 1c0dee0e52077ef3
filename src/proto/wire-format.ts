import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';

/**
 * Why a request's bytes are refused before protobufjs decodes them. The
 * message is safe for clients: it names the field number and what was wrong,
 * never the bytes.
 */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

/** How a field's value is encoded on the wire, as far as agreement between decoders is concerned. */
// biome-ignore lint/suspicious/noConstEnum: file-local, so every compiler inlines it; the check runs on every request's bytes.
const enum Kind {
  Varint32 = 1, // int32, uint32, sint32, bool, enum: protobufjs reads 1-5 or exactly 10 bytes correctly, nothing between
  Varint64, // int64, uint64, sint64: any valid varint
  Fixed64,
  Fixed32,
  String, // must be valid UTF-8 (proto3), which Python refuses otherwise and protobufjs silently replaces
  Bytes,
  Message,
}

interface FieldRule {
  kind: Kind;
  /** Repeated scalar numbers may come packed (one length-delimited run) or one by one. */
  packable: boolean;
  /** The rules of a nested message, or of a map's entry message. */
  nested?: MessageRules;
  name: string;
}

/** Field rules of one message type by field number, built once per type at start. */
type MessageRules = Map<number, FieldRule>;

const WIRE_TYPE_OF: Record<Kind, number> = {
  [Kind.Varint32]: 0,
  [Kind.Varint64]: 0,
  [Kind.Fixed64]: 1,
  [Kind.Fixed32]: 5,
  [Kind.String]: 2,
  [Kind.Bytes]: 2,
  [Kind.Message]: 2,
};
const SCALAR_KINDS: Record<string, Kind> = {
  int32: Kind.Varint32,
  uint32: Kind.Varint32,
  sint32: Kind.Varint32,
  bool: Kind.Varint32,
  int64: Kind.Varint64,
  uint64: Kind.Varint64,
  sint64: Kind.Varint64,
  fixed64: Kind.Fixed64,
  sfixed64: Kind.Fixed64,
  double: Kind.Fixed64,
  fixed32: Kind.Fixed32,
  sfixed32: Kind.Fixed32,
  float: Kind.Fixed32,
  string: Kind.String,
  bytes: Kind.Bytes,
};
/** Python's protobuf refuses messages nested deeper than this; so do we. */
const MAX_DEPTH = 100;

/**
 * Compiles a checker for one message type that refuses, before decoding,
 * every encoding protobufjs would read differently from the protobuf
 * specification (and from Python's and Go's decoders), so the gateway never
 * acts on a message the services behind it would read otherwise:
 *
 * - a varint over 10 bytes, or a 10-byte one carrying more than 64 bits;
 * - a 32-bit varint field (int32, uint32, sint32, bool, enum), a tag or a
 *   length written in 6 to 9 bytes: protobufjs reads 5 and then skips 5 more
 *   without looking, so it takes the next field's bytes as part of this one;
 * - a tag written with more bytes than it needs (Python treats it as an
 *   unknown field, protobufjs as the field);
 * - a known field sent with another wire type (Python ignores it as unknown,
 *   protobufjs decodes it as its declared type anyway);
 * - a string that is not valid UTF-8, field number 0, groups, truncation,
 *   and nesting deeper than 100.
 *
 * Valid encodings (including 10-byte negative int32 values) pass untouched.
 * Without a type (a method of a proto not loaded), only the rules that need
 * no schema apply.
 */
export function compileWireFormatCheck(type: protobuf.Type | undefined): (bytes: Uint8Array) => void {
  // Without a type only the schema-free rules apply: varint, tag and length encodings, truncation.
  const rules = type === undefined ? undefined : rulesFor(type, new Map());
  return (bytes) => checkMessage(bytes, 0, bytes.length, rules, 0);
}

function rulesFor(type: protobuf.Type, seen: Map<protobuf.Type, MessageRules>): MessageRules {
  const known = seen.get(type);
  if (known) return known;
  const rules: MessageRules = new Map();
  seen.set(type, rules); // before the fields: recursive types refer to themselves
  type.resolveAll();
  for (const field of type.fieldsArray) {
    if (field instanceof protobuf.MapField) {
      const entry: MessageRules = new Map([
        [1, { kind: SCALAR_KINDS[field.keyType]!, packable: false, name: `${field.name} key` }],
        [2, valueRule(field, seen, `${field.name} value`)],
      ]);
      rules.set(field.id, { kind: Kind.Message, packable: false, nested: entry, name: field.name });
    } else {
      const rule = valueRule(field, seen, field.name);
      rule.packable = field.repeated && rule.kind !== Kind.String && rule.kind !== Kind.Bytes && rule.kind !== Kind.Message;
      rules.set(field.id, rule);
    }
  }
  return rules;
}

function valueRule(field: protobuf.Field, seen: Map<protobuf.Type, MessageRules>, name: string): FieldRule {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return { kind: Kind.Message, packable: false, nested: rulesFor(resolved, seen), name };
  if (resolved instanceof protobuf.Enum) return { kind: Kind.Varint32, packable: false, name };
  const kind = SCALAR_KINDS[field.type];
  if (kind === undefined) throw new Error(`wire-format check: field ${field.fullName} has unknown type ${field.type}`);
  return { kind, packable: false, name };
}

function checkMessage(buf: Uint8Array, start: number, end: number, rules: MessageRules | undefined, depth: number): void {
  if (depth > MAX_DEPTH) throw new WireFormatError(`the request nests messages more than ${MAX_DEPTH} deep`);
  let pos = start;
  while (pos < end) {
    const tagStart = pos;
    const tagEnd = varintEnd(buf, pos, end);
    const tagBytes = tagEnd - tagStart;
    if (tagBytes > 5) throw new WireFormatError(`a field tag at byte ${tagStart} is ${tagBytes} bytes long; a tag fits in 5`);
    if (tagBytes > 1 && buf[tagEnd - 1] === 0)
      throw new WireFormatError(`the field tag at byte ${tagStart} is written with more bytes than it needs`);
    const tag = readVarint32(buf, tagStart, tagEnd);
    const fieldNumber = tag >>> 3;
    const wireType = tag & 7;
    if (fieldNumber === 0) throw new WireFormatError(`field number 0 at byte ${tagStart} is not a valid field`);
    const rule = rules?.get(fieldNumber);
    pos = tagEnd;
    if (rule !== undefined && wireType !== WIRE_TYPE_OF[rule.kind] && !(rule.packable && wireType === 2)) {
      throw new WireFormatError(
        `field ${fieldNumber} (${rule.name}) has wire type ${wireType}; its type is encoded with wire type ${WIRE_TYPE_OF[rule.kind]}`,
      );
    }
    switch (wireType) {
      case 0:
        pos = checkVarintValue(buf, pos, end, rule?.kind === Kind.Varint32, fieldNumber);
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const lengthEnd = varintEnd(buf, pos, end);
        if (lengthEnd - pos > 5) throw new WireFormatError(`the length of field ${fieldNumber} is written in ${lengthEnd - pos} bytes; at most 5`);
        const length = readVarint32(buf, pos, lengthEnd);
        const valueEnd = lengthEnd + length;
        if (valueEnd > end) throw new WireFormatError(`field ${fieldNumber} says ${length} bytes follow, but the message ends first`);
        if (rule !== undefined) checkLengthDelimited(buf, lengthEnd, valueEnd, rule, fieldNumber, depth);
        pos = valueEnd;
        break;
      }
      default:
        throw new WireFormatError(`field ${fieldNumber} has wire type ${wireType}, which these messages never use`);
    }
    if (pos > end) throw new WireFormatError(`field ${fieldNumber} runs past the end of the message`);
  }
}

function checkLengthDelimited(buf: Uint8Array, start: number, end: number, rule: FieldRule, fieldNumber: number, depth: number): void {
  switch (rule.kind) {
    case Kind.Message:
      checkMessage(buf, start, end, rule.nested, depth + 1);
      return;
    case Kind.String:
      if (!isAscii(buf, start, end) && !isUtf8(buf.subarray(start, end)))
        throw new WireFormatError(`field ${fieldNumber} (${rule.name}) is a string but not valid UTF-8`);
      return;
    case Kind.Bytes:
      return;
    case Kind.Varint32:
    case Kind.Varint64:
      for (let pos = start; pos < end; ) pos = checkVarintValue(buf, pos, end, rule.kind === Kind.Varint32, fieldNumber);
      return;
    case Kind.Fixed32:
    case Kind.Fixed64:
      if ((end - start) % (rule.kind === Kind.Fixed32 ? 4 : 8) !== 0)
        throw new WireFormatError(`packed field ${fieldNumber} (${rule.name}) has a partial value`);
  }
}

/**
 * Whether the bytes are all ASCII (so valid UTF-8), checked in place: most
 * strings in requests are, and a `subarray` view for `isUtf8` costs more than
 * reading a short string (measured with bench/external).
 */
function isAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i]! > 127) return false;
  return true;
}

/** Checks one varint value; returns where it ends. */
function checkVarintValue(buf: Uint8Array, pos: number, end: number, thirtyTwoBit: boolean, fieldNumber: number): number {
  const valueEnd = varintEnd(buf, pos, end);
  const length = valueEnd - pos;
  if (length === 10 && buf[valueEnd - 1]! > 1) throw new WireFormatError(`the varint of field ${fieldNumber} holds more than 64 bits`);
  if (thirtyTwoBit && length > 5 && length < 10) {
    throw new WireFormatError(
      `field ${fieldNumber} is a 32-bit integer written as a ${length}-byte varint; send 1 to 5 bytes (or 10 for a negative value)`,
    );
  }
  return valueEnd;
}

/** The index after the varint starting at `pos`; refuses one longer than 10 bytes or cut off by `end`. */
function varintEnd(buf: Uint8Array, pos: number, end: number): number {
  for (let i = pos; i < end && i < pos + 10; i++) if (buf[i]! < 128) return i + 1;
  if (end - pos >= 10) throw new WireFormatError(`a varint at byte ${pos} is longer than 10 bytes, the most the protobuf encoding allows`);
  throw new WireFormatError('the message ends in the middle of a varint');
}

/** The low 32 bits of a varint of at most 5 bytes. */
function readVarint32(buf: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = start, shift = 0; i < end; i++, shift += 7) value += (buf[i]! & 127) * 2 ** shift;
  return value % 2 ** 32;
}
