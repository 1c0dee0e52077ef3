/** Measures tests use to judge synthesised speech: how much of a clip is speech, and whether two clips have the same shape. */

/** RMS of each 10 ms frame. */
export function frameEnvelope(samples: Int16Array, sampleRateHz: number): number[] {
  const frame = Math.max(1, Math.round(sampleRateHz / 100));
  const out: number[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame) {
    let sum = 0;
    for (let j = i; j < i + frame; j++) sum += samples[j]! * samples[j]!;
    out.push(Math.sqrt(sum / frame));
  }
  return out;
}

/** Frames louder than 1/30 (about -30 dB) of the loudest frame count as speech. */
function speechFrames(envelope: number[]): number[] {
  const loudest = Math.max(0, ...envelope);
  return envelope.filter((e) => e > loudest / 30 && e > 30);
}

/** Seconds of speech in a clip (10 ms frames above the speech threshold). */
export function speechSeconds(samples: Int16Array, sampleRateHz: number): number {
  return speechFrames(frameEnvelope(samples, sampleRateHz)).length / 100;
}

/**
 * Pearson correlation of the speech-only loudness envelopes of two clips, stretched to a common length:
 * near 1 when they say the same thing the same way, whatever silence surrounds the words.
 */
export function envelopeCorrelation(a: Int16Array, b: Int16Array, sampleRateHz: number): number {
  const ea = speechFrames(frameEnvelope(a, sampleRateHz));
  const eb = speechFrames(frameEnvelope(b, sampleRateHz));
  const n = Math.min(ea.length, eb.length);
  if (n < 2) return 0;
  const pick = (e: number[], i: number) => e[Math.min(e.length - 1, Math.round((i * (e.length - 1)) / (n - 1)))]!;
  // Smoothed over 50 ms: syllable-level shape, insensitive to a frame of jitter between two syntheses.
  const smooth = (v: number[]) =>
    v.map((_, i) => {
      const w = v.slice(Math.max(0, i - 2), i + 3);
      return w.reduce((s, x) => s + x, 0) / w.length;
    });
  const xs = smooth(Array.from({ length: n }, (_, i) => Math.log(pick(ea, i))));
  const ys = smooth(Array.from({ length: n }, (_, i) => Math.log(pick(eb, i))));
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
