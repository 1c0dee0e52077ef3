/**
 * Measures the warm cepstral mean for src/engines/pocketsphinx/cmn-prior.ts: the decoder's own measurement on real
 * speech that the accuracy corpus does not use (numbers.raw and something.raw from Debian's pocketsphinx-testdata).
 * Run: npx tsx scripts/estimate-cmn-prior.ts [files...]; paste the printed entry into CMN_PRIORS.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { DECODER_SAMPLE_RATE_HZ, DEFAULT_MODEL_DIR, PocketSphinxDecoder } from '../src/engines/pocketsphinx/decoder.js';
import { modelCmnInit } from '../src/engines/pocketsphinx/cmn-prior.js';

const dataDir = '/usr/share/pocketsphinx/test/data';
const files = process.argv.length > 2 ? process.argv.slice(2) : [join(dataDir, 'numbers.raw'), join(dataDir, 'something.raw')];
const pcm = (path: string): Int16Array => {
  const b = readFileSync(path);
  const skip = path.endsWith('.wav') ? 44 : 0;
  return new Int16Array(b.buffer.slice(b.byteOffset + skip, b.byteOffset + b.length));
};
const all = files.map(pcm);
const joined = new Int16Array(all.reduce((n, a) => n + a.length, 0));
let at = 0;
for (const a of all) {
  joined.set(a, at);
  at += a.length;
}
// Start from the model's own -cmninit so the result does not depend on an earlier table entry.
const init = modelCmnInit(join(DEFAULT_MODEL_DIR, 'en-us'));
const decoder = new PocketSphinxDecoder({ cmnPrior: init?.split(',').map(Number) });
const mean = decoder.measureCepstralMean(joined);
decoder.close();
if (!mean) throw new Error('the decoder has no live CMN state to measure');
console.log(
  JSON.stringify(
    {
      modelCmnInit: init,
      sampleRateHz: DECODER_SAMPLE_RATE_HZ,
      mean: Array.from(mean, (x) => Math.round(x * 100) / 100),
      source: files.map((f) => f.split('/').pop()).join(' + '),
    },
    null,
    2,
  ),
);
