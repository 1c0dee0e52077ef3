import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundList, boundText, MAX_ECHO_BYTES, MAX_STATUS_MESSAGE_BYTES, quoteValue } from '../../interceptors/bounded-text.js';
import { GatehouseError, invalidFields, MAX_FIELD_VIOLATIONS } from '../../src/errors.js';
import { createLogger, MAX_LOG_VALUE_BYTES } from '../../src/logging/logger.js';
import { createStatusDetailsCodec } from '../../src/status/status-details.js';

test('boundText keeps short text and cuts long text on a character boundary, saying how much is left', () => {
  assert.equal(boundText('hello', 10), 'hello');
  const cut = boundText('é'.repeat(15_000), 200);
  assert.ok(Buffer.byteLength(cut) <= 200, `${Buffer.byteLength(cut)} bytes`);
  const head = cut.slice(0, cut.indexOf(' ... and '));
  assert.match(head, /^é+$/, 'a character was split');
  assert.equal(cut, `${head} ... and ${15_000 - head.length} more characters`);
  // Astral characters (two UTF-16 units) are never split either, and counted as one character.
  const emoji = boundText('😀'.repeat(1000), 100);
  assert.match(emoji, /^(😀)+ \.\.\. and \d+ more characters$/u);
  assert.equal([...emoji.slice(0, emoji.indexOf(' ... '))].length + Number(/and (\d+) more/.exec(emoji)![1]), 1000);
});

test('quoteValue quotes like JSON.stringify and puts the remainder outside the quotes', () => {
  assert.equal(quoteValue('ord_1'), '"ord_1"');
  assert.equal(quoteValue(42), '42');
  const quoted = quoteValue('x'.repeat(60_000));
  assert.match(quoted, /^"x+" \.\.\. and \d+ more characters$/);
  assert.ok(Buffer.byteLength(quoted) <= MAX_ECHO_BYTES + 2);
});

test('boundList lists the first items and counts the rest', () => {
  assert.equal(boundList(['a', 'b'], ', '), 'a, b');
  assert.equal(boundList(['a', 'b', 'c', 'd'], '; ', 'problems', 2), 'a; b; ... and 2 more problems');
});

test('a GatehouseError bounds its message, violations and metadata, so its status and details stay small', () => {
  const violations = Array.from({ length: 3000 }, (_, i) => ({
    field: `config.speech_contexts[0].phrases[${i}]`,
    description: `is too long: ${'w'.repeat(5000)}`,
  }));
  const error = invalidFields(violations, 'config');
  assert.ok(Buffer.byteLength(error.message) <= MAX_STATUS_MESSAGE_BYTES, `${Buffer.byteLength(error.message)} bytes`);
  assert.match(error.message, /^config has 3000 problems: /);
  assert.equal(error.details.fieldViolations?.length, MAX_FIELD_VIOLATIONS);
  const metadata = new GatehouseError('ORDER_NOT_FOUND', 'é'.repeat(100_000), { metadata: { echoed: 'k'.repeat(100_000) } });
  assert.ok(Buffer.byteLength(metadata.message) <= MAX_STATUS_MESSAGE_BYTES);
  assert.ok(metadata.details.metadata!.echoed!.length <= MAX_ECHO_BYTES);
  const encoded = createStatusDetailsCodec().encode(error, error.message);
  assert.ok(encoded.length < 16 * 1024, `grpc-status-details-bin of ${encoded.length} bytes`);
});

test('a GatehouseError takes its code from the catalogue', () => {
  assert.equal(new GatehouseError('RATE_LIMITED', 'x').code, 8);
  assert.equal(new GatehouseError('REQUEST_UNDECODABLE', 'x').code, 3);
});

test('the logger bounds every string value, nested and in errors, and still redacts tokens', () => {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line) });
  const huge = 'é'.repeat(1_000_000);
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
  logger.info(huge, { details: huge, nested: { deeper: huge }, error: new Error(`${jwt} ${huge}`) });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.length < 8 * MAX_LOG_VALUE_BYTES, `a ${lines[0]!.length}-character line`);
  const line = JSON.parse(lines[0]!) as { msg: string; details: string; nested: { deeper: string }; error: { message: string } };
  for (const value of [line.msg, line.details, line.nested.deeper, line.error.message]) {
    assert.ok(Buffer.byteLength(value) <= MAX_LOG_VALUE_BYTES);
    assert.match(value, /\.\.\. and \d+ more characters$/);
  }
  assert.ok(!lines[0]!.includes(jwt));
});
