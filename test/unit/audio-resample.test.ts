import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resamplePcm16, StreamingResampler } from '../../src/audio/resample.js';
import { rms } from '../../src/audio/pcm.js';

function tone(freqHz: number, rateHz: number, seconds: number, amplitude = 10000): Int16Array {
  const n = Math.round(rateHz * seconds);
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * i) / rateHz));
  return s;
}

/** Amplitude of `freqHz` in `s` by correlation (a one-bin DFT), ignoring the edges. */
function toneAmplitude(s: Int16Array, rateHz: number, freqHz: number): number {
  const from = Math.floor(s.length * 0.1);
  const to = Math.floor(s.length * 0.9);
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    const w = (2 * Math.PI * freqHz * i) / rateHz;
    re += s[i]! * Math.cos(w);
    im += s[i]! * Math.sin(w);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

const PAIRS: [number, number][] = [
  [22050, 8000],
  [22050, 16000],
  [22050, 24000],
  [22050, 48000],
  [16000, 8000],
  [8000, 16000],
  [48000, 22050],
  [16000, 22050],
];

for (const [from, to] of PAIRS) {
  test(`a 440 Hz tone survives ${from} -> ${to} Hz with its level and phase`, () => {
    const input = tone(440, from, 0.5);
    const out = resamplePcm16(input, from, to);
    assert.equal(out.length, Math.ceil((input.length * to) / from));
    const amp = toneAmplitude(out, to, 440);
    assert.ok(Math.abs(amp - 10000) < 150, `amplitude ${amp.toFixed(0)} should stay near 10000`);
    // No delay: output sample n equals the tone at time n/to (to within a few percent of full amplitude).
    const ideal = tone(440, to, 0.5);
    let maxErr = 0;
    for (let i = Math.floor(out.length * 0.1); i < Math.floor(out.length * 0.9); i++) maxErr = Math.max(maxErr, Math.abs(out[i]! - ideal[i]!));
    assert.ok(maxErr < 300, `waveform error ${maxErr} should be small`);
  });
}

test('content above the new Nyquist frequency is removed, not folded back', () => {
  // 6 kHz at 22050 Hz would alias to 2 kHz at 8000 Hz with naive decimation.
  const input = tone(6000, 22050, 0.5);
  const out = resamplePcm16(input, 22050, 8000);
  const aliased = toneAmplitude(out, 8000, 2000);
  assert.ok(rms(out) < 100, `rms ${rms(out).toFixed(1)} should be tiny after a 6 kHz tone is filtered at 4 kHz`);
  assert.ok(aliased < 30, `alias at 2 kHz has amplitude ${aliased.toFixed(1)}; must be >50 dB down`);
  // 3.3 kHz (inside the 0.9*Nyquist pass band) is kept.
  const kept = toneAmplitude(resamplePcm16(tone(3300, 22050, 0.5), 22050, 8000), 8000, 3300);
  assert.ok(kept > 9000, `3.3 kHz amplitude ${kept.toFixed(0)} should be kept`);
});

test('streaming in odd-sized chunks equals the one-shot result', () => {
  const input = tone(440, 22050, 0.3);
  const whole = resamplePcm16(input, 22050, 16000);
  const r = new StreamingResampler(22050, 16000);
  const parts: number[] = [];
  for (let i = 0; i < input.length; i += 777) parts.push(...r.push(input.subarray(i, i + 777)));
  parts.push(...r.flush());
  assert.deepEqual(Int16Array.from(parts), whole);
});

test('equal rates copy; invalid rates throw', () => {
  const s = Int16Array.from([1, 2, 3]);
  const out = resamplePcm16(s, 16000, 16000);
  assert.deepEqual(out, s);
  assert.notEqual(out, s);
  assert.throws(() => resamplePcm16(s, 0, 16000), RangeError);
  assert.throws(() => resamplePcm16(s, 16000, 22050.5), RangeError);
  assert.equal(resamplePcm16(new Int16Array(0), 22050, 8000).length, 0);
});
