/**
 * Flite at the length limit: a long sentence used to be one Flite run that delivered nothing until it was done, so
 * text within the 5,000-character limit ran past the hung-worker timeout and restarted the worker. Runs are now
 * bounded, and a long text streams run by run.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { MAX_RUN_CHARS, splitSentences } from '../../src/engines/flite/flite-backend.js';
import { createFliteEngine } from '../../src/engines/flite/flite-engine.js';
import type { TtsEngine } from '../../src/engines/tts-engine.js';

describe('Flite with long text', () => {
  it('splits overlong sentences into bounded runs at spaces, keeping every word', () => {
    const text = `${'word '.repeat(300)}end. ${'x'.repeat(450)}! Short one.`;
    const runs = splitSentences(text);
    for (const r of runs) assert.ok([...r].length <= MAX_RUN_CHARS, `${[...r].length} characters`);
    assert.equal(runs.join(' ').replace(/\s+/g, ''), text.replace(/\s+/g, ''));
    const wordRuns = runs.filter((r) => r.startsWith('word'));
    assert.ok(wordRuns.length >= 8 && wordRuns.slice(0, -1).every((r) => r.endsWith(' word')), 'cut at spaces, not inside words');
    assert.equal(runs.at(-1), 'Short one.');
  });

  describe('through a worker whose hung timeout is 2 s', () => {
    let engine: TtsEngine;
    before(async () => {
      engine = createFliteEngine({ workers: 1, hungTimeoutMs: 2000 });
      await engine.start();
    });
    after(() => engine.stop());

    it('synthesises 1,500 characters without a space (minutes of spelled audio) without losing its worker', async () => {
      let samples = 0;
      let chunks = 0;
      const result = await engine.synthesize(
        { voiceName: 'kal16', text: 'x'.repeat(1500), speakingRate: 1, pitchSemitones: 0 },
        {
          onChunk: (s) => {
            samples += s.length;
            chunks++;
          },
        },
      );
      assert.equal(result.sampleCount, samples);
      // Flite spells the letters: about 0.28 s of audio each.
      assert.ok(samples / 16000 > 300, `${samples / 16000} s of audio`);
      assert.ok(chunks > 100);
      assert.equal(engine.stats().replaced, 0);
      assert.equal(engine.stats().failed, 0);
    });
  });
});
