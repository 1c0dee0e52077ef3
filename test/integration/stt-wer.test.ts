/**
 * The gateway loses no accuracy: Recognize over mTLS has a word error rate equal to or better than Debian's own
 * `pocketsphinx_continuous -infile` on the same files from pocketsphinx-testdata. `npx tsx bench/stt-wer.ts` runs
 * the full set and prints the figures.
 */

import type * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';

import { loadTestCorpus, runPocketSphinxContinuous } from '../../bench/stt-corpus.js';
import { callUnary } from '../../src/client/grpc-client.js';
import type { RecognizeResponse__Output } from '../../src/generated/gatehouse/stt/v1/RecognizeResponse.js';
import { wordErrorRate } from '../../src/engines/pocketsphinx/word-error-rate.js';
import { createSpeechToTextService, SPEECH_TO_TEXT_SERVICE_NAME, SttConfigSchema } from '../../src/services/stt/index.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

describe('SpeechToText accuracy against pocketsphinx_continuous', () => {
  let gw: TestGateway;
  let client: grpc.Client;

  before(async () => {
    gw = await startGateway({
      extraServices: [
        createSpeechToTextService({ registry: new Registry(), config: SttConfigSchema.parse({ workers: 2, queueMax: 16, queueTimeoutMs: 60000 }) }),
      ],
    });
    client = gw.client(SPEECH_TO_TEXT_SERVICE_NAME);
  });
  after(async () => {
    await gw.close();
  });

  it('has a word error rate equal to or better than the engine used directly', async () => {
    // The short half of the corpus keeps this test to a few seconds; the bench runs all of it.
    const corpus = loadTestCorpus().filter((c) => c.seconds <= 3.0);
    assert.ok(corpus.length >= 6, `expected the pocketsphinx-testdata files, found ${corpus.length}`);
    const [ours, theirs] = await Promise.all([
      Promise.all(
        corpus.map(async (c) => {
          const r = await callUnary<RecognizeResponse__Output>(
            client,
            'recognize',
            { config: { encoding: 'LINEAR16', sampleRateHertz: 16000 }, audio: { content: readFileSync(c.wavPath) } },
            { deadline: 60000 },
          );
          return { reference: c.reference, hypothesis: r.results.map((x) => x.alternatives[0]?.transcript ?? '').join(' ') };
        }),
      ),
      runPocketSphinxContinuous(corpus, 1),
    ]);
    const werOurs = wordErrorRate(ours);
    const werTheirs = wordErrorRate(theirs);
    // Both recognisers must actually work on this audio, or the comparison proves nothing.
    assert.ok(werTheirs < 0.5, `pocketsphinx_continuous WER ${werTheirs}`);
    assert.ok(
      werOurs <= werTheirs,
      `ours ${werOurs.toFixed(3)} > pocketsphinx_continuous ${werTheirs.toFixed(3)}\nours:   ${JSON.stringify(ours)}\ntheirs: ${JSON.stringify(theirs)}`,
    );
  });
});
