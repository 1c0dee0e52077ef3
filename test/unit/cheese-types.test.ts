/**
 * Cheese types have one source, proto/cheesefarm/v1/cheese.proto: the generated enum feeds validation, config and
 * the CLI. Checked here against the .proto itself, read by protobufjs (not the generated code).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { ConfigSchema } from '../../src/config/schema.js';
import { PROTO_DIR } from '../../src/proto/load.js';
import { CHEESE_TYPES, isCheeseType } from '../../src/services/cheese/cheese-types.js';

const protoTypes = () => {
  // Imports resolve under proto/ (google/api/annotations.proto), the well-known types from protobufjs's own copies.
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : PROTO_DIR + target);
  root.loadSync('cheesefarm/v1/cheese.proto');
  const values = root.lookupEnum('cheesefarm.v1.CheeseType').values;
  return Object.entries(values)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name)
    .filter((name) => name !== 'CHEESE_TYPE_UNSPECIFIED');
};

test('CHEESE_TYPES is the proto enum without UNSPECIFIED, in proto order, and not empty', () => {
  const expected = protoTypes();
  assert.ok(expected.length > 0);
  assert.deepEqual([...CHEESE_TYPES], expected);
});

test('isCheeseType accepts the real types only', () => {
  for (const name of CHEESE_TYPES) assert.equal(isCheeseType(name), true, name);
  for (const value of ['CHEESE_TYPE_UNSPECIFIED', 'brie', 2, undefined, '']) assert.equal(isCheeseType(value), false, String(value));
});

test('config: default stock names every proto type, and an unknown type in stock is refused', () => {
  const config = ConfigSchema.parse({});
  assert.deepEqual(Object.keys(config.cheese.stock).sort(), protoTypes().sort());
  const wrong = ConfigSchema.safeParse({ cheese: { stock: { GOUDA: 1 } } });
  assert.equal(wrong.success, false);
});
