import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splicePieces, speechBounds } from '../../src/services/tts/splice.js';
import { rms } from '../../src/audio/pcm.js';

const RATE = 16000;

/** `silence` ms, then `toneMs` of a 200 Hz tone at `amplitude`, then `silence` ms. */
function piece(silenceMs: number, toneMs: number, amplitude: number): Int16Array {
  const pad = (silenceMs * RATE) / 1000;
  const tone = (toneMs * RATE) / 1000;
  const s = new Int16Array(2 * pad + tone);
  for (let i = 0; i < tone; i++) s[pad + i] = Math.round(amplitude * Math.sin((2 * Math.PI * 200 * i) / RATE));
  return s;
}

test('speechBounds finds the audible part to the 10 ms frame', () => {
  const b = speechBounds(piece(300, 500, 8000), RATE)!;
  assert.ok(Math.abs(b.start - 0.3 * RATE) <= 160 && Math.abs(b.end - 0.8 * RATE) <= 160, JSON.stringify(b));
  assert.equal(speechBounds(new Int16Array(1000), RATE), undefined);
});

test('inner silences shrink to the gap, outer ones stay, and joins overlap by the cross-fade', () => {
  const a = piece(300, 500, 8000);
  const b = piece(300, 400, 8000);
  const out = splicePieces([{ samples: a, reference: true }, { samples: b, reference: false }], { sampleRateHz: RATE, crossfadeMs: 10, gapMs: 50 });
  // a: 300 lead + 500 tone + 50 gap; b: 50 gap + 400 tone + 300 tail; minus a 10 ms overlap.
  const expected = ((300 + 500 + 50 + 50 + 400 + 300 - 10) * RATE) / 1000;
  assert.ok(Math.abs(out.length - expected) <= 2 * 160, `${out.length} vs ${expected}`);
});

test('a quieter slot is raised towards the fixed pieces, within the correction limit', () => {
  const fixed = piece(100, 500, 8000);
  const quiet = piece(100, 500, 4000); // -6 dB
  const whisper = piece(100, 500, 500); // -24 dB: corrected by at most 6 dB
  const out = splicePieces([{ samples: fixed, reference: true }, { samples: quiet, reference: false }], { sampleRateHz: RATE, crossfadeMs: 0, gapMs: 0 });
  const half = out.length / 2;
  const ratio = rms(out.subarray(half + 800)) / rms(out.subarray(800, half - 800));
  assert.ok(ratio > 0.9 && ratio < 1.1, `slot level ratio ${ratio}`);
  const limited = splicePieces([{ samples: fixed, reference: true }, { samples: whisper, reference: false }], { sampleRateHz: RATE, crossfadeMs: 0, gapMs: 0 });
  const gained = rms(limited.subarray(limited.length / 2 + 800)) / rms(whisper);
  assert.ok(gained > 1.5 && gained < 2.5, `gain ${gained} is capped near 6 dB (x2)`);
});

test('the cross-fade leaves no click at the join', () => {
  // Two pieces that end/start at full amplitude of opposite sign would click without a fade.
  const a = new Int16Array(1600).fill(10000);
  const b = new Int16Array(1600).fill(-10000);
  const out = splicePieces([{ samples: a, reference: true }, { samples: b, reference: true }], { sampleRateHz: RATE, crossfadeMs: 10, gapMs: 0 });
  let maxStep = 0;
  for (let i = 1; i < out.length; i++) maxStep = Math.max(maxStep, Math.abs(out[i]! - out[i - 1]!));
  assert.ok(maxStep < 200, `largest sample step ${maxStep}`);
  assert.equal(out.length, 3200 - 160);
});

test('joins get the pause the engine makes there in a whole sentence: by the punctuation before them, scaled by rate', async () => {
  const { joinPauseMs, JOIN_PAUSES_MS } = await import('../../src/services/tts/splice.js');
  assert.equal(joinPauseMs('мы переводим'), JOIN_PAUSES_MS.word);
  assert.equal(joinPauseMs('Dear customer,'), JOIN_PAUSES_MS.clause);
  assert.equal(joinPauseMs('тысячу Азамату.'), JOIN_PAUSES_MS.sentence);
  assert.equal(joinPauseMs('he said "yes!"'), JOIN_PAUSES_MS.sentence);
  assert.equal(joinPauseMs('Dear customer,', 2), JOIN_PAUSES_MS.clause / 2);
});

test('pauseAfterMs sets the silence at a join', () => {
  const rate = 16000;
  // 200 ms of tone between 300 ms of silence on each side.
  const piece = (): Int16Array => {
    const s = new Int16Array(Math.round(0.8 * rate));
    for (let i = Math.round(0.3 * rate); i < Math.round(0.5 * rate); i++) s[i] = Math.round(8000 * Math.sin(i / 5));
    return s;
  };
  const joined = (pauseAfterMs: number): number =>
    splicePieces([{ samples: piece(), reference: true, pauseAfterMs }, { samples: piece(), reference: true }], { sampleRateHz: rate, crossfadeMs: 0 }).length / rate;
  // First piece keeps its 300 ms lead, the second its 300 ms tail: 1.0 s of both plus the pause.
  assert.ok(Math.abs(joined(30) - 1.03) < 0.025, `${joined(30)} s`);
  assert.ok(Math.abs(joined(340) - 1.34) < 0.025, `${joined(340)} s`);
});
