/**
 * Synthetic audio to warm a decoder up: quiet noise, 0.4 s of a voiced, vowel-like buzz, quiet noise. It makes the
 * voice activity detector open and close so every code path (search, end of utterance, lattice) runs once and the
 * model's pages are touched before the first caller. Deterministic, so start-up is reproducible; no file needed.
 */

/** Makes 1.2 s of 16 kHz warm-up audio. */
export function makeWarmUpAudio(sampleRateHz = 16000): Int16Array {
  const out = new Int16Array(Math.round(sampleRateHz * 1.2));
  let seed = 12345;
  const noise = (): number => {
    // xorshift32: a fixed sequence, no Math.random.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return ((seed >>> 0) / 0xffffffff) * 2 - 1;
  };
  const voicedFrom = Math.round(sampleRateHz * 0.3);
  const voicedTo = Math.round(sampleRateHz * 0.7);
  for (let i = 0; i < out.length; i++) {
    let v = noise() * 30;
    if (i >= voicedFrom && i < voicedTo) {
      const t = i / sampleRateHz;
      const f0 = 120 + 20 * Math.sin(2 * Math.PI * 3 * t);
      // A few harmonics shaped like an /a/ vowel (formants near 700 and 1200 Hz).
      for (let h = 1; h <= 20; h++) {
        const f = f0 * h;
        const gain = Math.exp(-(((f - 700) / 300) ** 2)) + 0.6 * Math.exp(-(((f - 1200) / 300) ** 2)) + 0.1 / h;
        v += 2500 * gain * Math.sin(2 * Math.PI * f * t);
      }
    }
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}
