import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FragmentCache } from '../../src/services/tts/fragment-cache.js';

const samples = (n: number) => ({ samples: new Int16Array(n) });

test('hits after the first miss; concurrent misses share one synthesis', async () => {
  const cache = new FragmentCache({ maxEntries: 10, maxBytes: 1e6 });
  let calls = 0;
  const synth = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 10));
    return samples(100);
  };
  const [a, b] = await Promise.all([cache.get('k', synth), cache.get('k', synth)]);
  assert.equal(calls, 1);
  assert.equal(a.outcome, 'miss');
  assert.equal(b.fragment, a.fragment);
  assert.equal((await cache.get('k', synth)).outcome, 'hit');
  assert.equal(calls, 1);
});

test('evicts least recently used entries by count and by bytes; failures are not cached', async () => {
  const cache = new FragmentCache({ maxEntries: 2, maxBytes: 1000 });
  await cache.get('a', async () => samples(100));
  await cache.get('b', async () => samples(100));
  await cache.get('a', async () => samples(100)); // a is now the most recent
  await cache.get('c', async () => samples(100)); // evicts b
  assert.equal((await cache.get('a', async () => samples(1))).outcome, 'hit');
  assert.equal((await cache.get('b', async () => samples(100))).outcome, 'miss');
  assert.deepEqual(cache.size(), { entries: 2, bytes: 400 });
  await cache.get('big', async () => samples(450)); // 900 bytes: nothing else fits beside it
  assert.deepEqual(cache.size(), { entries: 1, bytes: 900 });
  await assert.rejects(
    cache.get('x', async () => {
      throw new Error('engine down');
    }),
    /engine down/,
  );
  assert.equal((await cache.get('x', async () => samples(1))).outcome, 'miss');
  const off = new FragmentCache({ maxEntries: 0, maxBytes: 1000 });
  await off.get('a', async () => samples(1));
  assert.equal((await off.get('a', async () => samples(1))).outcome, 'miss');
});

test('keys separate voice, rate, pitch and text', () => {
  const keys = new Set([
    FragmentCache.key('ru', 1, 0, 'Итак'),
    FragmentCache.key('ru+f3', 1, 0, 'Итак'),
    FragmentCache.key('ru', 1.5, 0, 'Итак'),
    FragmentCache.key('ru', 1, 2, 'Итак'),
    FragmentCache.key('ru', 1, 0, 'Итак,'),
  ]);
  assert.equal(keys.size, 5);
});
