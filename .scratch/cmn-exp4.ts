import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { PocketSphinxDecoder } from '/work/wt/speech/src/engines/pocketsphinx/decoder.ts';
import { loadTestCorpus } from '/work/wt/speech/bench/stt-corpus.ts';
import { wordErrorRate } from '/work/wt/speech/src/engines/pocketsphinx/word-error-rate.ts';
const Cmn = koffi.struct('cmn_t_x', { cmn_mean: 'void *', cmn_var: 'void *', sum: 'void *', nframe: 'int32_t', veclen: 'int32_t' });
const d = new PocketSphinxDecoder();
const anyd = d as any;
const ptr = anyd.cmn.ptr;
const head = () => koffi.decode(ptr, Cmn) as any;
console.log(head());
const setPrior = (v: Float32Array, w: number) => {
  const h = head();
  koffi.encode(h.cmn_mean, koffi.array('float', 13), Array.from(v));
  koffi.encode(h.sum, koffi.array('float', 13), Array.from(v, (x) => x * w));
  koffi.encode(ptr, koffi.offsetof(Cmn, 'nframe'), 'int32_t', w);
};
const get = () => { const v = new Float32Array(13); anyd.lib.cmnLiveGet(ptr, v); return v; };
const pcm = (p: string) => { const b = readFileSync(p); const off = p.endsWith('.wav') ? 44 : 0; return new Int16Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length)); };
const run = (p: string, v: Float32Array, w: number) => { anyd.cmn = null; d.begin({}); setPrior(v, w); const o = d.process(pcm(p)); const f = d.finish(); return [...o.finals, ...f.finals].map(x=>x.transcript).join(' '); };
const corpus = loadTestCorpus();
const sets = (n: string) => n.startsWith('sense') ? 'librivox' : n.startsWith('go') ? 'goforward' : 'cards';
const est = Float32Array.from([49.14,-3.09,-2.91,7.67,4.79,-2.47,-2.82,-3.08,-5.55,0.92,-6.53,-0.89,1.06]);
for (const [w1, w2] of [[500,500],[1,500],[1,100],[50,500], [100, 100]]) {
  const bySet: Record<string, {reference:string,hypothesis:string}[]> = {};
  for (const c of corpus) { run(c.wavPath, est, w1); const m = get(); const h = run(c.wavPath, m, w2); (bySet[sets(c.name)] ??= []).push({ reference: c.reference, hypothesis: h }); }
  console.log(w1, w2, Object.entries(bySet).map(([k,v]) => `${k} ${(wordErrorRate(v)*100).toFixed(1)}`).join('  '));
}
for (const w of [500, 100, 20]) {
  const bySet: Record<string, {reference:string,hypothesis:string}[]> = {};
  for (const c of corpus) { const h = run(c.wavPath, est, w); (bySet[sets(c.name)] ??= []).push({ reference: c.reference, hypothesis: h }); }
  console.log('single', w, Object.entries(bySet).map(([k,v]) => `${k} ${(wordErrorRate(v)*100).toFixed(1)}`).join('  '));
}
