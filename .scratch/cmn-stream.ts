import { readFileSync } from 'node:fs';
import { PocketSphinxDecoder } from '../src/engines/pocketsphinx/decoder.ts';
import { loadTestCorpus } from '../bench/stt-corpus.ts';
import { wordErrorRate } from '../src/engines/pocketsphinx/word-error-rate.ts';
const d = new PocketSphinxDecoder({ cmnPrior: process.argv[2] ? JSON.parse(process.argv[2]) : undefined });
const anyd = d as any;
const pcm = (p: string) => { const b = readFileSync(p); const off = p.endsWith('.wav') ? 44 : 0; return new Int16Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length)); };
const corpus = loadTestCorpus();
const sets = (n: string) => n.startsWith('sense') ? 'librivox' : n.startsWith('go') ? 'goforward' : 'cards';
for (const [w, upd] of [[500, false], [500, true], [100, true], [200, true]] as const) {
  const bySet: Record<string, {reference:string,hypothesis:string}[]> = {};
  for (const c of corpus) {
    d.begin({}); anyd.lib.cmnSetPrior(anyd.cmn.ptr, anyd.cmn.prior, w); const a = pcm(c.wavPath);
    const fs: any[] = []; for (let i = 0; i < a.length; i += 1600) { fs.push(...d.process(a.subarray(i, i + 1600)).finals); if (upd) anyd.lib.cmnLiveUpdate(anyd.cmn.ptr); }
    const f = d.finish();
    (bySet[sets(c.name)] ??= []).push({ reference: c.reference, hypothesis: [...fs, ...f.finals].map(x=>x.transcript).join(' ') });
  }
  console.log(w, upd, Object.entries(bySet).map(([k,v]) => `${k} ${(wordErrorRate(v)*100).toFixed(1)}`).join('  '));
}
