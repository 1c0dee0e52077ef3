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
  const out = splicePieces([{ samples: a }, { samples: b }], { sampleRateHz: RATE, crossfadeMs: 10, gapMs: 50 });
  // a: 300 lead + 500 tone + 50 gap; b: 50 gap + 400 tone + 300 tail; minus a 10 ms overlap.
  const expected = ((300 + 500 + 50 + 50 + 400 + 300 - 10) * RATE) / 1000;
  assert.ok(Math.abs(out.length - expected) <= 2 * 160, `${out.length} vs ${expected}`);
});

test('levels stay as the engine made them: a quieter piece is not raised', () => {
  // Pieces of one voice and settings are as loud as the same words in the whole sentence (bench/tts-bench.ts), so
  // matching levels would only move a slot away from its natural level.
  const fixed = piece(100, 500, 8000);
  const quiet = piece(100, 500, 4000);
  const out = splicePieces([{ samples: fixed }, { samples: quiet }], { sampleRateHz: RATE, crossfadeMs: 0, gapMs: 0 });
  const half = out.length / 2;
  const ratio = rms(out.subarray(half + 800)) / rms(out.subarray(800, half - 800));
  assert.ok(ratio > 0.45 && ratio < 0.55, `slot level ratio ${ratio}`);
});

test('the cross-fade leaves no click at the join', () => {
  // Two pieces that end/start at full amplitude of opposite sign would click without a fade.
  const a = new Int16Array(1600).fill(10000);
  const b = new Int16Array(1600).fill(-10000);
  const out = splicePieces([{ samples: a }, { samples: b }], { sampleRateHz: RATE, crossfadeMs: 10, gapMs: 0 });
  let maxStep = 0;
  for (let i = 1; i < out.length; i++) maxStep = Math.max(maxStep, Math.abs(out[i]! - out[i - 1]!));
  assert.ok(maxStep < 200, `largest sample step ${maxStep}`);
  assert.equal(out.length, 3200 - 160);
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
    splicePieces([{ samples: piece(), pauseAfterMs }, { samples: piece() }], { sampleRateHz: rate, crossfadeMs: 0 }).length / rate;
  // First piece keeps its 300 ms lead, the second its 300 ms tail: 1.0 s of both plus the pause.
  assert.ok(Math.abs(joined(30) - 1.03) < 0.025, `${joined(30)} s`);
  assert.ok(Math.abs(joined(340) - 1.34) < 0.025, `${joined(340)} s`);
});

test("a pause longer than the silence at the pieces' edges is padded", () => {
  // eSpeak ends a piece right after its last sound: the pause after a comma must come from padding.
  const tight = (): Int16Array => piece(0, 300, 8000);
  const joined = splicePieces([{ samples: tight(), pauseAfterMs: 200 }, { samples: tight() }], { sampleRateHz: RATE, crossfadeMs: 0 });
  assert.ok(Math.abs(joined.length / RATE - 0.8) < 0.02, `${joined.length / RATE} s: 300 + 200 pause + 300`);
  const gap = speechBounds(joined.subarray(0.3 * RATE), RATE)!;
  assert.ok(Math.abs(gap.start / RATE - 0.2) < 0.015, `speech resumes after ${gap.start / RATE} s`);
});

test('a piece cut where the next one starts keeps its end, and the next piece its start', () => {
  // As the engine delivers them in context: the first piece ends with a 150 ms pause (its own), the second starts
  // with 40 ms of a stop's closure. Neither is trimmed nor given a modelled pause.
  const a = new Int16Array(Math.round(0.45 * RATE)); // 300 ms tone + 150 ms pause
  a.set(piece(0, 300, 8000));
  const b = new Int16Array(Math.round(0.34 * RATE));
  b.set(piece(0, 300, 8000), Math.round(0.04 * RATE));
  const out = splicePieces([{ samples: a, cutAtNext: true, pauseAfterMs: 30 }, { samples: b }], {
    sampleRateHz: RATE,
    crossfadeMs: 12,
    contextMarginMs: 6,
  });
  assert.equal(out.length, a.length + b.length - 2 * Math.round(0.006 * RATE), 'both whole, overlapping by the context kept beyond the cut');
  const uncut = splicePieces([{ samples: a, pauseAfterMs: 30 }, { samples: b }], { sampleRateHz: RATE, crossfadeMs: 12, contextMarginMs: 6 });
  assert.ok(uncut.length < out.length - 0.1 * RATE, 'without the cut the join gets the modelled 30 ms pause instead');
});

test('onLayout tells where each audible piece landed', () => {
  const placed: { index: number; start: number; end: number }[] = [];
  const out = splicePieces([{ samples: piece(0, 200, 8000), cutAtNext: true }, { samples: new Int16Array(800) }, { samples: piece(0, 200, 8000) }], {
    sampleRateHz: RATE,
    crossfadeMs: 0,
    onLayout: (p) => placed.push(p),
  });
  assert.deepEqual(
    placed.map((p) => p.index),
    [0, 2],
    'the silent piece is skipped',
  );
  assert.equal(placed[0]!.start, 0);
  assert.equal(placed[1]!.end, out.length);
  assert.equal(placed[1]!.start, placed[0]!.end);
});
