import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { PROTO_DIR } from '../../src/proto/load.js';
import { compileWireFormatCheck, WireFormatError } from '../../src/proto/wire-format.js';
import { decodeWithPython, type PythonDecoding } from '../helpers/python-protobuf.js';

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : existsSync(join(PROTO_DIR, target)) ? join(PROTO_DIR, target) : target);
root.loadSync(['cheesefarm/v1/cheese.proto'], { keepCase: true });
root.resolveAll();
const CheeseRequest = root.lookupType('cheesefarm.v1.CheeseRequest');
const check = compileWireFormatCheck(CheeseRequest);

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const KEY = Buffer.concat([Buffer.from([0x1a, 0x05]), Buffer.from('k-001')]); // idempotency_key = "k-001"

/** protobufjs's reading in MessageToDict's shape: proto field names, enums by name, defaults included. */
function decodeWithProtobufjs(bytes: Uint8Array): Record<string, unknown> {
  const object = CheeseRequest.toObject(CheeseRequest.decode(bytes), { enums: String, longs: String, defaults: true });
  return object;
}

function refused(bytes: Uint8Array): boolean {
  try {
    check(bytes);
    return false;
  } catch (error) {
    if (error instanceof WireFormatError) return true;
    throw error;
  }
}

/** Every message the check lets through must read the same in protobufjs as in Python. */
function assertAgreement(messages: Uint8Array[], python: PythonDecoding[]): number {
  let passed = 0;
  messages.forEach((bytes, i) => {
    if (refused(bytes)) return;
    const reference = python[i]!;
    const label = Buffer.from(bytes).toString('hex');
    assert.ok('ok' in reference, `${label}: passed the check, but Python refuses it (${JSON.stringify(reference)})`);
    let ours: Record<string, unknown>;
    try {
      ours = decodeWithProtobufjs(bytes);
    } catch (error) {
      assert.fail(`${label}: passed the check and Python reads it, but protobufjs throws ${String(error)}`);
    }
    assert.deepEqual(ours, reference.ok, `${label}: protobufjs and Python read different fields`);
    passed++;
  });
  return passed;
}

describe("wire-format check: no message is read differently from Python's protobuf (issue 12, item 11)", () => {
  it('the reported order (6-byte int32 varint) and an 11-byte varint are refused; canonical and 10-byte negative ones pass', () => {
    const reported = Buffer.concat([hex('08 8c8080808001 10 01 20 07'), KEY]);
    const [python] = decodeWithPython('cheesefarm/v1/cheese.proto', 'CheeseRequest', [reported]);
    // Python reads age 12 and quantity 7; protobufjs reads something else, which is why the bytes must be refused.
    assert.deepEqual(python, { ok: { age: 12, type: 'EMMENTAL', idempotency_key: 'k-001', quantity: 7 } });
    assert.notDeepEqual(decodeWithProtobufjs(reported), (python as { ok: unknown }).ok);
    assert.throws(() => check(reported), /field 1 is a 32-bit integer written as a 6-byte varint/);
    const elevenBytes = hex(`08 8c${'80'.repeat(9)}01`);
    assert.equal(elevenBytes.length, 12);
    assert.throws(() => check(Buffer.concat([elevenBytes, KEY])), /longer than 10 bytes/);
    assert.deepEqual(decodeWithPython('cheesefarm/v1/cheese.proto', 'CheeseRequest', [Buffer.concat([elevenBytes, KEY])])[0], {
      error: 'DecodeError',
    });
    check(Buffer.concat([hex('08 0c 10 02 20 07'), KEY]));
    check(Buffer.concat([hex('08 ffffffffffffffffff01 10 02'), KEY])); // age -1: how every encoder writes a negative int32
  });

  it('refuses overlong tags, known fields with another wire type, and invalid UTF-8 in strings', () => {
    assert.throws(() => check(hex('88 00 0c')), /more bytes than it needs/);
    assert.throws(() => check(hex('0a 01 0c')), /field 1 \(age\) has wire type 2/);
    assert.throws(() => check(hex('1a 02 c3 28')), /not valid UTF-8/);
    assert.throws(() => check(hex('1a 05 61')), /the message ends first/);
  });

  it('property: whatever the bytes, a message the check passes reads the same in protobufjs and Python', () => {
    // Fields with canonical, overlong (2-11 byte) and wrong-wire-type encodings, unknown fields, and random bytes.
    const varint = (value: bigint, padTo: number) => {
      const out: number[] = [];
      let v = BigInt.asUintN(64, value);
      do {
        out.push(Number(v & 127n));
        v >>= 7n;
      } while (v > 0n);
      while (out.length < padTo) out.push(0);
      return out.map((b, i) => (i < out.length - 1 ? b | 128 : b));
    };
    const field = fc.oneof(
      fc
        .record({
          number: fc.integer({ min: 1, max: 6 }),
          value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
          pad: fc.integer({ min: 1, max: 11 }),
        })
        .map(({ number, value, pad }) => [...varint(BigInt(number << 3), 1), ...varint(value, pad)]),
      fc
        .record({ number: fc.integer({ min: 1, max: 6 }), body: fc.uint8Array({ maxLength: 8 }) })
        .map(({ number, body }) => [(number << 3) | 2, body.length, ...body]),
      fc.uint8Array({ minLength: 1, maxLength: 6 }).map((bytes) => [...bytes]),
    );
    const messages = fc.sample(
      fc.array(field, { maxLength: 6 }).map((fields) => Uint8Array.from(fields.flat())),
      { numRuns: 3000, seed: 12011 },
    );
    messages.push(Buffer.concat([hex('08 8c8080808001 10 01 20 07'), KEY]));
    const python = decodeWithPython('cheesefarm/v1/cheese.proto', 'CheeseRequest', messages);
    const passed = assertAgreement(messages, python);
    // The property must have been exercised both ways.
    assert.ok(passed > 300, `only ${passed} of ${messages.length} messages passed the check`);
    assert.ok(messages.length - passed > 300, `only ${messages.length - passed} messages were refused`);
  });
});
