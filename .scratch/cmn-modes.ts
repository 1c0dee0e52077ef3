import { readFileSync } from 'node:fs';
import { PocketSphinxDecoder } from '../src/engines/pocketsphinx/decoder.ts';
import { loadTestCorpus } from '../bench/stt-corpus.ts';
import { wordErrorRate } from '../src/engines/pocketsphinx/word-error-rate.ts';
const prior = process.argv[2] === 'model' ? [41.00,-5.29,-0.12,5.09,2.48,-4.07,-1.37,-1.78,-5.08,-2.05,-6.45,-1.42,1.17] : undefined;
const d = new PocketSphinxDecoder({ cmnPrior: prior });
const pcm = (p: string) => { const b = readFileSync(p); const off = p.endsWith('.wav') ? 44 : 0; return new Int16Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length)); };
const corpus = loadTestCorpus();
const sets = (n: string) => n.startsWith('sense') ? 'librivox' : n.startsWith('go') ? 'goforward' : 'cards';
for (const measureCmn of [false, true]) {
  const t0 = performance.now();
  const bySet: Record<string, {reference:string,hypothesis:string}[]> = {};
  for (const c of corpus) {
    d.begin({ measureCmn }); const a = pcm(c.wavPath);
    const o = measureCmn ? d.process(a) : [0].map(() => { const fs: any[] = []; for (let i = 0; i < a.length; i += 1600) fs.push(...d.process(a.subarray(i, i + 1600)).finals); return { finals: fs }; })[0]!;
    const f = d.finish();
    (bySet[sets(c.name)] ??= []).push({ reference: c.reference, hypothesis: [...o.finals, ...f.finals].map(x=>x.transcript).join(' ') });
  }
  console.log(process.argv[2] ?? 'shipped', measureCmn ? 'unary ' : 'stream', Object.entries(bySet).map(([k,v]) => `${k} ${(wordErrorRate(v)*100).toFixed(1)}`).join('  '), `${(performance.now()-t0).toFixed(0)} ms`);
}
