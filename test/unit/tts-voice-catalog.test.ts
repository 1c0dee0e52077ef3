import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { VoiceCatalog } from '../../src/services/tts/voice-catalog.js';
import type { EngineVoice, TtsEngine } from '../../src/engines/tts-engine.js';
import type { GatehouseError } from '../../src/errors.js';

function engine(name: string, voices: Omit<EngineVoice, 'engine' | 'naturalSampleRateHz'>[]): TtsEngine {
  const full = voices.map((v) => ({ ...v, engine: name, naturalSampleRateHz: 16000 }));
  return {
    name,
    voices: () => full,
    start: async () => undefined,
    stop: async () => undefined,
    synthesize: async () => {
      throw new Error('unused');
    },
    stats: () => ({
      workers: 0,
      busy: 0,
      idle: 0,
      available: true,
      queued: 0,
      started: 0,
      completed: 0,
      cancelled: 0,
      failed: 0,
      replaced: 0,
      bufferedBytes: 0,
    }),
  };
}

const catalog = new VoiceCatalog([
  engine('espeak-ng', [
    {
      name: 'en',
      languages: [
        { code: 'en-GB', priority: 2 },
        { code: 'en', priority: 2 },
      ],
      gender: 'MALE',
    },
    {
      name: 'en-US',
      languages: [
        { code: 'en-US', priority: 2 },
        { code: 'en', priority: 3 },
      ],
      gender: 'MALE',
    },
    {
      name: 'en-US+f3',
      languages: [
        { code: 'en-US', priority: 2 },
        { code: 'en', priority: 3 },
      ],
      gender: 'FEMALE',
    },
    { name: 'ru', languages: [{ code: 'ru', priority: 5 }], gender: 'MALE' },
  ]),
  engine('flite', [
    {
      name: 'kal16',
      languages: [
        { code: 'en-US', priority: 1 },
        { code: 'en', priority: 4 },
      ],
      gender: 'MALE',
    },
    { name: 'ru', languages: [{ code: 'ru', priority: 1 }], gender: 'MALE' }, // a clash: gets the engine prefix
  ]),
]);

test('names win, case-insensitively; clashing names are prefixed with the engine', () => {
  assert.equal(catalog.select('kal16', 'ru', undefined).name, 'kal16');
  assert.equal(catalog.select('EN-us', '', undefined).name, 'en-US');
  assert.equal(catalog.select('flite:ru', '', undefined).engine, 'flite');
  assert.equal(catalog.select('ru', '', undefined).engine, 'espeak-ng');
});

test('by language: exact match first, then engine order, then engine priority; gender is a preference', () => {
  assert.equal(catalog.select('', 'en-US', undefined).name, 'en-US');
  assert.equal(catalog.select('', 'en-us', 'FEMALE').name, 'en-US+f3');
  assert.equal(catalog.select('', 'en', undefined).name, 'en');
  assert.equal(catalog.select('', 'en-GB', 'FEMALE').name, 'en', 'no female en-GB voice: the best en-GB voice anyway');
  assert.equal(catalog.select('', 'en-AU', undefined).name, 'en', 'a regional code falls back to the generic language');
  assert.equal(catalog.select('', 'ru', undefined).name, 'ru');
});

test('unknown names and languages are NOT_FOUND; malformed codes INVALID_ARGUMENT', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as GatehouseError).code;
    }
    return undefined;
  };
  assert.equal(
    code(() => catalog.select('nobody', '', undefined)),
    status.NOT_FOUND,
  );
  assert.equal(
    code(() => catalog.select('', 'de', undefined)),
    status.NOT_FOUND,
  );
  assert.equal(
    code(() => catalog.select('', 'en US', undefined)),
    status.INVALID_ARGUMENT,
  );
  assert.deepEqual(
    catalog.list('ru').map((v) => v.name),
    ['ru', 'flite:ru'],
  );
  assert.equal(catalog.list('').length, 6);
  assert.equal(catalog.list('de').length, 0);
});

test('listing by a regional code lists only voices that speak it; a bare language lists its regions', () => {
  assert.deepEqual(
    catalog.list('en-US').map((v) => v.name),
    ['en-US', 'en-US+f3', 'kal16'],
  );
  assert.deepEqual(
    catalog.list('en-GB').map((v) => v.name),
    ['en'],
  );
  assert.deepEqual(
    catalog.list('en').map((v) => v.name),
    ['en', 'en-US', 'en-US+f3', 'kal16'],
  );
  assert.ok(catalog.speaks('en-AU'), 'selection still falls back to the generic language');
  assert.ok(!catalog.speaks('de'));
});
