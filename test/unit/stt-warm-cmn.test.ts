/**
 * Warm cepstral mean normalisation: recognition starts from a mean measured on real speech (not the model's cold
 * `-cmninit`), unary recognition normalises by the caller's own mean, and nothing of one session's audio reaches the
 * next. The cards clips are short commands that a cold decoder gets wrong (Debian's pocketsphinx_continuous hears
 * "ten of clubs" as four wrong words).
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { CMN_PRIORS } from '../../src/engines/pocketsphinx/cmn-prior.js';
import { PocketSphinxDecoder } from '../../src/engines/pocketsphinx/decoder.js';
import type { SessionConfig, UtteranceResult } from '../../src/engines/pocketsphinx/recognition-result.js';

const DATA = '/usr/share/pocketsphinx/test/data';

function readPcm(path: string): Int16Array {
  const b = readFileSync(path);
  const skip = path.endsWith('.wav') ? 44 : 0;
  return new Int16Array(b.buffer.slice(b.byteOffset + skip, b.byteOffset + b.length));
}

describe('PocketSphinx warm cepstral mean', () => {
  let decoder: PocketSphinxDecoder;
  const tenOfClubs = readPcm(`${DATA}/cards/001.wav`);
  const sevenOfClubs = readPcm(`${DATA}/cards/003.wav`);
  const librivox = readPcm(`${DATA}/librivox/sense_and_sensibility_01_austen_64kb-0870.wav`);

  const recognise = (samples: Int16Array, config: SessionConfig, chunk = samples.length): UtteranceResult[] => {
    decoder.begin(config);
    const finals: UtteranceResult[] = [];
    for (let i = 0; i < samples.length; i += chunk) finals.push(...decoder.process(samples.subarray(i, i + chunk)).finals);
    return [...finals, ...decoder.finish().finals];
  };
  const transcript = (r: UtteranceResult[]): string => r.map((u) => u.transcript).join(' ');
  /**
   * A result with posteriors rounded to 1e-3: the front end keeps a little state of its own across sessions (its noise
   * estimate; measured before warm CMN too) that moves a posterior by about 1e-5, never a word or a time.
   */
  const stable = (r: UtteranceResult[]): string =>
    JSON.stringify(r, (key, value: unknown) => (key === 'confidence' && typeof value === 'number' ? Math.round(value * 1000) / 1000 : value));

  before(() => {
    decoder = new PocketSphinxDecoder();
  });
  after(() => decoder.close());

  it('starts from the mean measured on real speech for this model, not the model default', () => {
    assert.deepEqual(
      Array.from(decoder.cmnPrior!, (x) => Math.round(x * 100) / 100),
      CMN_PRIORS[0]!.mean,
    );
    assert.notEqual(Math.round(decoder.cmnPrior![0]!), 41, 'c0 of the model default -cmninit');
  });

  it('recognises short commands a cold decoder gets wrong: unary (own mean) and streamed in 100 ms chunks (warm mean)', () => {
    assert.equal(transcript(recognise(tenOfClubs, { measureCmn: true })), 'ten of clubs');
    assert.equal(transcript(recognise(sevenOfClubs, { measureCmn: true })), 'seven of clubs');
    assert.equal(transcript(recognise(tenOfClubs, {}, 1600)), 'ten of clubs');
  });

  it("never carries one caller's audio into the next caller's result", () => {
    // Unary brings the whole audio in one block; streaming brings 100 ms chunks.
    for (const [config, chunk] of [
      [{ measureCmn: true }, Infinity],
      [{}, 1600],
    ] as [SessionConfig, number][]) {
      const first = stable(recognise(tenOfClubs, config, chunk));
      // A long clip from another speaker and channel moves the live mean a long way...
      recognise(librivox, config, chunk);
      // ...and the next session must still start where the first one did.
      assert.equal(stable(recognise(tenOfClubs, config, chunk)), first, JSON.stringify(config));
    }
  });

  it('measures a mean that depends on the audio (the unary pass really reads the caller)', () => {
    const a = decoder.measureCepstralMean(tenOfClubs)!;
    const b = decoder.measureCepstralMean(librivox)!;
    assert.ok(Math.abs(a[3]! - b[3]!) > 3, `c3 ${a[3]} vs ${b[3]}`);
  });
});
