import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countPhones, parseSegments, textSpan } from '../../src/engines/flite/flite-context.js';

// Flite's -psdur output for "Hi Bob, your" (kal16): a pause after the comma, end times in seconds.
const OUTPUT = 'pau:0.220 hh:0.300 ay:0.494 b:0.600 aa:0.796 b:0.888 pau:1.108 y:1.173 ao:1.313 r:1.430 pau:1.650 \n';

test('parses segments and counts phones, pauses aside', () => {
  const segments = parseSegments(OUTPUT);
  assert.equal(segments.length, 11);
  assert.deepEqual(segments[1], { name: 'hh', end: 0.3 });
  assert.equal(countPhones(OUTPUT), 8);
  assert.equal(countPhones('pau t uw pau \n'), 2, '-ps output has names only');
});

test('"Bob," between "Hi" (2 phones) and "your" (3): from its first phone to the continuation, its pause included', () => {
  assert.deepEqual(textSpan(parseSegments(OUTPUT), 2, 3), { start: 0.494, end: 1.108 });
  assert.deepEqual(textSpan(parseSegments(OUTPUT), 0, 3), { start: 0, end: 1.108 }, 'no preceding context: from the start');
  assert.deepEqual(textSpan(parseSegments(OUTPUT), 2, 0), { start: 0.494, end: undefined }, 'no continuation: to the end');
});

test('context phones that do not fit the segments give no span', () => {
  assert.equal(textSpan(parseSegments(OUTPUT), 5, 3), undefined);
  assert.equal(textSpan([], 0, 1), undefined);
});
