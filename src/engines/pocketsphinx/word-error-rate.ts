/** Word error rate: the yardstick the STT tests and bench use to compare recognisers on the same audio. */

/** Lower-cases, drops punctuation and fillers (`<s>`, `<sil>`, `[noise]`, `++garbage++`), splits into words. */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0 && !/^(<.*>|\[.*\]|\+\+.*\+\+)$/.test(w))
    .map((w) => w.replace(/\(\d+\)$/, '').replace(/[^a-z0-9']/g, ''))
    .filter((w) => w.length > 0);
}

/** Word-level edit distance (substitutions + deletions + insertions) between a reference and a hypothesis. */
export function wordErrors(reference: string, hypothesis: string): { errors: number; referenceWords: number } {
  const r = normalizeWords(reference);
  const h = normalizeWords(hypothesis);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const cur = [i];
    for (let j = 1; j <= h.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return { errors: prev[h.length]!, referenceWords: r.length };
}

/** Corpus WER: total word errors over total reference words, 0 for an empty corpus. */
export function wordErrorRate(pairs: ReadonlyArray<{ reference: string; hypothesis: string }>): number {
  let errors = 0;
  let words = 0;
  for (const p of pairs) {
    const e = wordErrors(p.reference, p.hypothesis);
    errors += e.errors;
    words += e.referenceWords;
  }
  return words === 0 ? 0 : errors / words;
}
