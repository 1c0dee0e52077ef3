/**
 * Word error rate of Gatehouse's Recognize (over mTLS, in-process gateway) against Debian's own
 * `pocketsphinx_continuous -infile` on every pocketsphinx-testdata file with a transcript.
 * Run: npx tsx bench/stt-wer.ts
 */

import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';

import { callUnary } from '../src/client/grpc-client.js';
import { wordErrorRate, wordErrors } from '../src/engines/pocketsphinx/word-error-rate.js';
import type { RecognizeResponse__Output } from '../src/generated/gatehouse/stt/v1/RecognizeResponse.js';
import { createSpeechToTextService, SPEECH_TO_TEXT_SERVICE_NAME, SttConfigSchema } from '../src/services/stt/index.js';
import { startGateway } from '../test/helpers/start-gateway.js';
import { loadTestCorpus, runPocketSphinxContinuous } from './stt-corpus.js';

const corpus = loadTestCorpus();
const gw = await startGateway({ extraServices: [createSpeechToTextService({ registry: new Registry(), config: SttConfigSchema.parse({ workers: 2, queueMax: 64, queueTimeoutMs: 600000 }) })] });
try {
  const client = gw.client(SPEECH_TO_TEXT_SERVICE_NAME);
  const ours = await Promise.all(corpus.map(async (c) => {
    const r = await callUnary<RecognizeResponse__Output>(client, 'recognize', { config: { encoding: 'LINEAR16', sampleRateHertz: 16000 }, audio: { content: readFileSync(c.wavPath) } }, { deadline: 600000 });
    return { name: c.name, reference: c.reference, hypothesis: r.results.map((x) => x.alternatives[0]?.transcript ?? '').join(' ') };
  }));
  const theirs = await runPocketSphinxContinuous(corpus, 2);
  console.log(`${'file'.padEnd(48)} ${'ref'.padStart(4)} ${'ours'.padStart(5)} ${'psc'.padStart(5)}`);
  corpus.forEach((c, i) => {
    const o = wordErrors(c.reference, ours[i]!.hypothesis);
    const t = wordErrors(c.reference, theirs[i]!.hypothesis);
    console.log(`${c.name.padEnd(48)} ${String(o.referenceWords).padStart(4)} ${String(o.errors).padStart(5)} ${String(t.errors).padStart(5)}`);
  });
  const a = wordErrorRate(ours);
  const b = wordErrorRate(theirs);
  console.log(`\nWER over ${corpus.length} files (${corpus.reduce((s, c) => s + c.seconds, 0).toFixed(1)} s): gatehouse ${(a * 100).toFixed(1)}%  pocketsphinx_continuous ${(b * 100).toFixed(1)}%  -> ${a <= b ? 'equal or better' : 'WORSE'}`);
  process.exitCode = a <= b ? 0 : 1;
} finally {
  await gw.close();
}
