import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JOIN_PAUSES_MS, UNKNOWN_NEIGHBOUR, joinContext, joinPauseMs } from '../../src/services/tts/join-context.js';

type Piece = { kind: 'fixed' | 'dynamic'; text: string };
const fixed = (text: string): Piece => ({ kind: 'fixed', text });
const slot = (text: string): Piece => ({ kind: 'dynamic', text });

test('a slot is synthesised after the last two words before it and before the first two after it', () => {
  const pieces = [fixed('Hi'), slot('Bob,'), fixed('your new order'), slot('A17'), fixed('has shipped.')];
  assert.deepEqual(joinContext(pieces, 1), { preceding: 'Hi', continuation: 'your new' });
  assert.deepEqual(joinContext(pieces, 3), { preceding: 'new order', continuation: 'has shipped.' });
});

test('a fixed (cached) piece gets a stand-in for the slot next to it, with the punctuation that ends the slot', () => {
  const pieces = [fixed('Hi'), slot('Bob,'), fixed('your new order'), slot('A17'), fixed('has shipped.')];
  assert.deepEqual(joinContext(pieces, 0), { continuation: UNKNOWN_NEIGHBOUR });
  assert.deepEqual(joinContext(pieces, 2), { preceding: `${UNKNOWN_NEIGHBOUR},`, continuation: UNKNOWN_NEIGHBOUR });
  assert.deepEqual(joinContext(pieces, 4), { preceding: UNKNOWN_NEIGHBOUR });
});

test('no context across a sentence end, and none at the ends of the template', () => {
  const pieces = [fixed('Dear customer, we are transferring'), slot('1000 dollars to Alice.'), fixed('Thank you!'), slot('Bye')];
  assert.deepEqual(joinContext(pieces, 1), { preceding: 'are transferring' });
  assert.deepEqual(joinContext(pieces, 2), {});
  assert.deepEqual(joinContext(pieces, 3), {});
  assert.deepEqual(joinContext([slot('«Готово.»'), fixed('Дальше')], 1), {}, 'a closing quote after the full stop still ends the sentence');
  assert.deepEqual(joinContext([fixed('Итак, мы переводим'), slot('тысячу Азамату')], 0), { continuation: UNKNOWN_NEIGHBOUR });
});

test('joins without context get the pause the engine makes there in a whole sentence: by the punctuation, scaled by rate', () => {
  assert.equal(joinPauseMs('мы переводим'), JOIN_PAUSES_MS.word);
  assert.equal(joinPauseMs('Dear customer,'), JOIN_PAUSES_MS.clause);
  assert.equal(joinPauseMs('тысячу Азамату.'), JOIN_PAUSES_MS.sentence);
  assert.equal(joinPauseMs('he said "yes!"'), JOIN_PAUSES_MS.sentence);
  assert.equal(joinPauseMs('Dear customer,', 2), JOIN_PAUSES_MS.clause / 2);
});
