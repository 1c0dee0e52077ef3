import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeG711Wav, encodeWav, looksLikeWav, parseWav, streamingWavHeader, WAV_HEADER_BYTES } from '../../src/audio/wav.js';
import { AudioFormatError } from '../../src/audio/audio-format-error.js';
import { encodeAlaw, encodeMulaw } from '../../src/audio/g711.js';
import { pcm16ToBuffer } from '../../src/audio/pcm.js';

const samples = Int16Array.from({ length: 1001 }, (_, i) => Math.round(12000 * Math.sin(i / 7)));

test('encodeWav writes a canonical 44-byte header that parseWav reads back', () => {
  const wav = encodeWav(samples, 22050);
  assert.equal(wav.length, WAV_HEADER_BYTES + samples.length * 2);
  assert.equal(wav.toString('ascii', 0, 4), 'RIFF');
  assert.equal(wav.readUInt32LE(4), wav.length - 8);
  assert.equal(wav.readUInt16LE(20), 1);
  assert.equal(wav.readUInt32LE(24), 22050);
  assert.equal(wav.readUInt32LE(28), 44100);
  assert.equal(wav.readUInt32LE(40), samples.length * 2);
  assert.ok(looksLikeWav(wav));
  const parsed = parseWav(wav);
  assert.deepEqual(parsed, { samples, sampleRateHz: 22050, channels: 1, format: 'pcm16' });
});

test('parseWav skips unknown chunks, pads odd chunks, mixes stereo to mono', () => {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(2, 10);
  fmt.writeUInt32LE(8000, 12);
  fmt.writeUInt32LE(32000, 16);
  fmt.writeUInt16LE(4, 20);
  fmt.writeUInt16LE(16, 22);
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
  const stereo = pcm16ToBuffer(Int16Array.from([100, 300, -100, -300]));
  const data = Buffer.concat([Buffer.from('data'), Buffer.from([stereo.length, 0, 0, 0]), stereo]);
  const body = Buffer.concat([Buffer.from('WAVE'), list, fmt, data]);
  const riff = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), body]);
  riff.writeUInt32LE(body.length, 4);
  const parsed = parseWav(riff);
  assert.equal(parsed.channels, 2);
  assert.equal(parsed.sampleRateHz, 8000);
  assert.deepEqual(parsed.samples, Int16Array.from([200, -200]));
});

test('G.711 WAV files (format codes 7 and 6) are expanded', () => {
  const mu = parseWav(encodeG711Wav(encodeMulaw(samples), 8000, 'mulaw'));
  assert.equal(mu.format, 'mulaw');
  assert.equal(mu.sampleRateHz, 8000);
  assert.equal(mu.samples.length, samples.length);
  const a = parseWav(encodeG711Wav(encodeAlaw(samples), 8000, 'alaw'));
  assert.equal(a.format, 'alaw');
  for (let i = 0; i < samples.length; i++) assert.ok(Math.abs(a.samples[i]! - samples[i]!) <= 1024);
});

test('a streaming header (sizes unknown) still parses up to the end of the file', () => {
  const wav = Buffer.concat([streamingWavHeader(16000), pcm16ToBuffer(samples)]);
  assert.deepEqual(parseWav(wav).samples, samples);
});

test('malformed WAV input throws AudioFormatError with a readable message', () => {
  const good = encodeWav(samples, 16000);
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('not a wav file at all'), /does not start with a RIFF\/WAVE header/],
    [good.subarray(0, 30), /truncated|no "fmt " chunk/],
    [Buffer.concat([good.subarray(0, 12), good.subarray(36)]), /no "fmt " chunk/],
    [good.subarray(0, 36), /no "data" chunk/],
  ];
  const float = Buffer.from(good);
  float.writeUInt16LE(3, 20); // IEEE float
  float.writeUInt16LE(32, 34);
  cases.push([float, /format code 3 with 32 bits per sample/]);
  for (const [buf, re] of cases) {
    assert.throws(
      () => parseWav(buf),
      (err: unknown) => err instanceof AudioFormatError && re.test(err.message),
      re.source,
    );
  }
});
