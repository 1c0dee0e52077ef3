import assert from 'node:assert/strict';
import { test } from 'node:test';

import { languageForText } from '../../src/services/tts/script-language.js';

const all = (): boolean => true;

test('the language follows the script most letters are in; Latin, digits and unspoken scripts keep the default', () => {
  assert.equal(languageForText('Привет, мир', 'en-US', all), 'ru');
  assert.equal(languageForText('Итак, мы переводим 1000 рублей Азамату (ООО «Ромашка»)', 'en-US', all), 'ru');
  assert.equal(languageForText('Hello, world', 'en-US', all), 'en-US');
  assert.equal(languageForText('Send 1000 to Азамат now please', 'en-US', all), 'en-US', 'more Latin letters than Cyrillic');
  assert.equal(languageForText('12345 !!!', 'en-US', all), 'en-US');
  assert.equal(languageForText('Καλημέρα', 'en-US', all), 'el');
  assert.equal(languageForText('你好', 'en-US', all), 'cmn');
  assert.equal(
    languageForText('你好', 'en-US', (c) => c === 'yue'),
    'yue',
    'the next language of the row',
  );
  assert.equal(
    languageForText('Привет', 'en-US', () => false),
    'en-US',
    'no voice for the script',
  );
});
