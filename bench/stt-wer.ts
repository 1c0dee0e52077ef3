/**
 * Word error rate per set of Debian's pocketsphinx-testdata (goforward, librivox, cards): Gatehouse's Recognize and
 * StreamingRecognize (over mTLS, in-process gateway) against the engine run directly with a fresh decoder per file
 * (Debian's own `pocketsphinx_continuous -infile`). Run: npx tsx bench/stt-wer.ts
 */

import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';

import { callUnary, openBidiStream } from '../src/client/grpc-client.js';
import { wordErrorRate, wordErrors } from '../src/engines/pocketsphinx/word-error-rate.js';
import type { RecognizeResponse__Output } from '../src/generated/gatehouse/stt/v1/RecognizeResponse.js';
import type { StreamingRecognizeResponse__Output } from '../src/generated/gatehouse/stt/v1/StreamingRecognizeResponse.js';
import { createSpeechToTextService, SPEECH_TO_TEXT_SERVICE_NAME, SttConfigSchema } from '../src/services/stt/index.js';
import { startGateway } from '../test/helpers/start-gateway.js';
import { loadTestCorpus, runPocketSphinxContinuous, type CorpusEntry } from './stt-corpus.js';

type Hyp = { reference: string; hypothesis: string };

/** Streams a file in 100 ms chunks, as a live caller would, and joins the final transcripts. */
async function streamFile(client: Parameters<typeof openBidiStream>[0], c: CorpusEntry): Promise<string> {
  const bytes = readFileSync(c.wavPath).subarray(c.wavPath.endsWith('.wav') ? 44 : 0);
  const call = openBidiStream<unknown, StreamingRecognizeResponse__Output>(client, 'streamingRecognize', { deadline: 600000 });
  const finals: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (m: StreamingRecognizeResponse__Output) => {
      for (const r of m.results) if (r.isFinal) finals.push(r.alternatives[0]?.transcript ?? '');
    });
    call.on('error', reject);
    call.on('end', resolve);
  });
  call.write({ streamingConfig: { config: { encoding: 'LINEAR16', sampleRateHertz: 16000 } } });
  for (let i = 0; i < bytes.length; i += 3200) call.write({ audioContent: bytes.subarray(i, i + 3200) });
  call.end();
  await done;
  return finals.join(' ');
}

const corpus = loadTestCorpus();
const gw = await startGateway({
  extraServices: [
    createSpeechToTextService({ registry: new Registry(), config: SttConfigSchema.parse({ workers: 2, queueMax: 64, queueTimeoutMs: 600000 }) }),
  ],
});
try {
  const client = gw.client(SPEECH_TO_TEXT_SERVICE_NAME);
  const unary: Hyp[] = await Promise.all(
    corpus.map(async (c) => {
      const r = await callUnary<RecognizeResponse__Output>(
        client,
        'recognize',
        { config: { encoding: 'LINEAR16', sampleRateHertz: 16000 }, audio: { content: readFileSync(c.wavPath) } },
        { deadline: 600000 },
      );
      return { reference: c.reference, hypothesis: r.results.map((x) => x.alternatives[0]?.transcript ?? '').join(' ') };
    }),
  );
  const streamed: Hyp[] = await Promise.all(corpus.map(async (c) => ({ reference: c.reference, hypothesis: await streamFile(client, c) })));
  const fresh = await runPocketSphinxContinuous(corpus, 2);
  console.log(`${'file'.padEnd(48)} ${'ref'.padStart(4)} ${'unary'.padStart(6)} ${'stream'.padStart(7)} ${'fresh'.padStart(6)}   (word errors)`);
  corpus.forEach((c, i) => {
    const e = (h: Hyp): string => String(wordErrors(c.reference, h.hypothesis).errors);
    console.log(
      `${c.name.padEnd(48)} ${String(wordErrors(c.reference, '').referenceWords).padStart(4)} ${e(unary[i]!).padStart(6)} ${e(streamed[i]!).padStart(7)} ${e(fresh[i]!).padStart(6)}`,
    );
  });
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`.padStart(7);
  console.log(`\nWER per set: Gatehouse Recognize, Gatehouse StreamingRecognize, engine with a fresh decoder (pocketsphinx_continuous)`);
  let ok = true;
  for (const set of [...new Set(corpus.map((c) => c.set))]) {
    const idx = corpus.flatMap((c, i) => (c.set === set ? [i] : []));
    const [u, s, f] = [unary, streamed, fresh].map((h) => wordErrorRate(idx.map((i) => h[i]!)));
    const verdict = u! <= f! && s! <= f! ? 'not worse' : 'WORSE';
    if (verdict !== 'not worse') ok = false;
    console.log(
      `${set.padEnd(10)} (${idx.length} files, ${idx.reduce((n, i) => n + corpus[i]!.seconds, 0).toFixed(1)} s)  recognize ${pct(u!)}  streaming ${pct(s!)}  fresh decoder ${pct(f!)}  ${verdict}`,
    );
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  await gw.close();
}
