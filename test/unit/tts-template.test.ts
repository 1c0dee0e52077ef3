import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { parseTemplate, planTemplate } from '../../src/services/tts/template.js';
import { GatehouseError } from '../../src/errors.js';

function invalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof GatehouseError && err.code === status.INVALID_ARGUMENT && message.test(err.message));
}

test('parses fixed text and slots, with {{ and }} as literal braces', () => {
  assert.deepEqual(parseTemplate('Итак, мы переводим {sum} {name}'), [
    { kind: 'fixed', text: 'Итак, мы переводим ' },
    { kind: 'slot', name: 'sum' },
    { kind: 'fixed', text: ' ' },
    { kind: 'slot', name: 'name' },
  ]);
  assert.deepEqual(parseTemplate('{{literal}} and { spaced }'), [
    { kind: 'fixed', text: '{literal} and ' },
    { kind: 'slot', name: 'spaced' },
  ]);
  assert.deepEqual(parseTemplate('no slots'), [{ kind: 'fixed', text: 'no slots' }]);
});

test('unbalanced, nested and empty braces are INVALID_ARGUMENT with the position', () => {
  invalid(() => parseTemplate('Итак {sum'), /unbalanced "\{" at character 6/);
  invalid(() => parseTemplate('Итак sum}'), /unbalanced "\}" at character 9/);
  invalid(() => parseTemplate('a {b {c}}'), /unbalanced "\{" at character 3/);
  invalid(() => parseTemplate('a {} b'), /empty slot "\{\}" at character 3/);
  invalid(() => parseTemplate('a {x y} b'), /slot name "x y" at character 3 may only contain/);
});

test('planning fills slots, merges adjacent dynamic text, and keeps fixed text for the cache', () => {
  const parts = parseTemplate('Итак, мы переводим {sum} {name}. Спасибо!');
  assert.deepEqual(planTemplate(parts, { sum: '1000', name: 'Азамату' }, ''), [
    { kind: 'fixed', text: 'Итак, мы переводим' },
    { kind: 'dynamic', text: '1000 Азамату.' },
    { kind: 'fixed', text: 'Спасибо!' },
  ]);
  assert.deepEqual(planTemplate(parseTemplate('{a}, {b} and {c}'), { a: '1', b: '2', c: '3' }, ''), [
    { kind: 'dynamic', text: '1, 2' },
    { kind: 'fixed', text: 'and' },
    { kind: 'dynamic', text: '3' },
  ]);
});

test('a missing or blank slot uses the backup phrase, or fails naming every missing slot', () => {
  const parts = parseTemplate('Переводим {sum} {name}');
  assert.deepEqual(planTemplate(parts, { sum: '5' }, 'получателю'), [
    { kind: 'fixed', text: 'Переводим' },
    { kind: 'dynamic', text: '5 получателю' },
  ]);
  invalid(
    () => planTemplate(parts, { sum: '5', name: '  ' }, ''),
    /no value for slot "name"; give it a value or set input.template_input.backup_phrase/,
  );
  invalid(() => planTemplate(parts, {}, ''), /no value for slots "sum", "name"; give them values/);
});

test('slot names that are Object.prototype members are ordinary names, never a TypeError', () => {
  const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
  for (const name of names) {
    const parts = parseTemplate(`Say {${name}} now`);
    // Without a value: the usual INVALID_ARGUMENT naming the slot, not Object.prototype's member read as a value.
    invalid(() => planTemplate(parts, {}, ''), new RegExp(`no value for slot "${name.replace(/_/g, '_')}"`));
    assert.deepEqual(planTemplate(parts, {}, 'something'), [
      { kind: 'fixed', text: 'Say' },
      { kind: 'dynamic', text: 'something' },
      { kind: 'fixed', text: 'now' },
    ]);
    // With a value given as an own property (how protobufjs builds the map), it is used.
    const slots = Object.defineProperty({}, name, { value: 'it', enumerable: true }) as Record<string, string>;
    assert.deepEqual(planTemplate(parts, slots, '')[1], { kind: 'dynamic', text: 'it' });
  }
});

test('punctuation stays with the piece it closes: a trailing "." is never a fragment of its own', () => {
  assert.deepEqual(planTemplate(parseTemplate('Hello {name}.'), { name: 'Alice' }, ''), [
    { kind: 'fixed', text: 'Hello' },
    { kind: 'dynamic', text: 'Alice.' },
  ]);
  assert.deepEqual(planTemplate(parseTemplate('{greeting}, dear {name}! See you.'), { greeting: 'Hi', name: 'Bob' }, ''), [
    { kind: 'dynamic', text: 'Hi,' },
    { kind: 'fixed', text: 'dear' },
    { kind: 'dynamic', text: 'Bob!' },
    { kind: 'fixed', text: 'See you.' },
  ]);
});
