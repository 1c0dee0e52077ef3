/**
 * Warm cepstral mean normalisation: the cepstral mean a decoder starts every recognition from. The model's own
 * `-cmninit` (en-us: c0 = 41) is far from what real speech through a microphone gives (c0 = 45 to 49), so a cold
 * decoder misrecognises short utterances until its live CMN has adapted, which in PocketSphinx happens only after
 * 3 to 8 seconds of speech. The table holds means measured on real speech, per model and sample rate; a model not in
 * the table keeps its own `-cmninit`.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A cepstral mean measured on real speech for one model at one sample rate. */
export interface CmnPrior {
  /** The model's `-cmninit` from `feat.params`, exactly as written: identifies the model the mean was measured for. */
  modelCmnInit: string;
  /** Decoder sample rate in Hz. */
  sampleRateHz: number;
  /** The cepstral mean, one value per cepstral coefficient (c0 first). */
  mean: readonly number[];
  /** What it was measured on, and how to measure it again. */
  source: string;
}

/**
 * Measured with `npx tsx scripts/estimate-cmn-prior.ts` (the decoder's own `measureCepstralMean`) on `numbers.raw`
 * and `something.raw` from Debian's pocketsphinx-testdata: real speech that is not part of the accuracy corpus
 * (bench/stt-corpus.ts), so the benchmark does not grade a mean fitted to its own files.
 */
export const CMN_PRIORS: readonly CmnPrior[] = [
  {
    modelCmnInit: '41.00,-5.29,-0.12,5.09,2.48,-4.07,-1.37,-1.78,-5.08,-2.05,-6.45,-1.42,1.17',
    sampleRateHz: 16000,
    mean: [53.97, -2.04, -4.52, 9.57, 6.17, -1.13, -4.53, -3.32, -6.52, 2.77, -6.29, -1.42, 1.16],
    source: 'pocketsphinx-en-us 0.8+5prealpha (Debian), numbers.raw + something.raw',
  },
];

/** The model's `-cmninit` line value from `<hmmDir>/feat.params`, or undefined when it has none. */
export function modelCmnInit(hmmDir: string): string | undefined {
  const path = join(hmmDir, 'feat.params');
  if (!existsSync(path)) return undefined;
  const m = /^-cmninit\s+(\S+)/m.exec(readFileSync(path, 'utf8'));
  return m?.[1];
}

/** The shipped mean for the model in `hmmDir` at `sampleRateHz`, or undefined when none was measured for it. */
export function findCmnPrior(hmmDir: string, sampleRateHz: number): Float32Array | undefined {
  const init = modelCmnInit(hmmDir);
  const prior = CMN_PRIORS.find((p) => p.modelCmnInit === init && p.sampleRateHz === sampleRateHz && p.mean.length > 0);
  return prior ? Float32Array.from(prior.mean) : undefined;
}
