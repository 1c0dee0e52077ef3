import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyGainDb,
  bufferToPcm16,
  clampPcm16,
  concatPcm16,
  dbToGain,
  float32ToPcm16,
  pcm16ToBuffer,
  pcm16ToFloat32,
  peak,
  peakDbfs,
  rms,
  rmsDbfs,
} from '../../src/audio/pcm.js';

test('pcm16ToBuffer writes little-endian and bufferToPcm16 reads it back', () => {
  const s = Int16Array.from([0, 1, -1, 32767, -32768, 0x1234]);
  const b = pcm16ToBuffer(s);
  assert.equal(b.length, 12);
  assert.deepEqual([...b.subarray(10)], [0x34, 0x12]);
  assert.deepEqual([...b.subarray(4, 6)], [0xff, 0xff]);
  assert.deepEqual(bufferToPcm16(b), s);
  // An unaligned view (odd byteOffset) still decodes.
  const shifted = Buffer.concat([Buffer.from([9]), b]).subarray(1);
  assert.deepEqual(bufferToPcm16(shifted), s);
});

test('gain in dB scales amplitude and clips instead of wrapping', () => {
  const s = Int16Array.from([1000, -1000, 20000, -20000]);
  assert.deepEqual(applyGainDb(s, 20 * Math.log10(2)), Int16Array.from([2000, -2000, 32767, -32768]));
  assert.deepEqual(applyGainDb(s, 0), s);
  assert.notEqual(applyGainDb(s, 0), s, 'returns a copy');
  assert.ok(Math.abs(dbToGain(-6.0206) - 0.5) < 1e-4);
  assert.equal(clampPcm16(1e9), 32767);
  assert.equal(clampPcm16(-1e9), -32768);
});

test('RMS and peak measures', () => {
  const n = 48000;
  const sine = new Int16Array(n);
  for (let i = 0; i < n; i++) sine[i] = Math.round(16384 * Math.sin((2 * Math.PI * 1000 * i) / 48000));
  assert.ok(Math.abs(rms(sine) - 16384 / Math.SQRT2) < 2);
  assert.equal(peak(sine), 16384);
  assert.ok(Math.abs(peakDbfs(sine) - -6.02) < 0.01);
  assert.ok(Math.abs(rmsDbfs(sine) - -9.03) < 0.01);
  assert.equal(rms(new Int16Array(0)), 0);
  assert.equal(rmsDbfs(new Int16Array(10)), -Infinity);
});

test('float conversions and concatenation', () => {
  assert.deepEqual(float32ToPcm16(Float32Array.from([0, 1, -1, 2])), Int16Array.from([0, 32767, -32767, 32767]));
  assert.deepEqual([...pcm16ToFloat32(Int16Array.from([16384, -32768]))], [0.5, -1]);
  assert.deepEqual(concatPcm16([Int16Array.from([1, 2]), new Int16Array(0), Int16Array.from([3])]), Int16Array.from([1, 2, 3]));
});
