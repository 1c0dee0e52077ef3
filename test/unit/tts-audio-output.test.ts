import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOutputStream, encodeClip, type OutputFormat } from '../../src/services/tts/audio-output.js';
import { decodeAudio } from '../../src/audio/decode-audio.js';
import { parseWav } from '../../src/audio/wav.js';
import { rms } from '../../src/audio/pcm.js';

const input = Int16Array.from({ length: 22050 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 22050)));

function streamed(format: OutputFormat, chunk = 2206): Buffer {
  const out = createOutputStream(22050, format);
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) parts.push(out.push(input.subarray(i, i + chunk)));
  parts.push(out.end());
  return Buffer.concat(parts);
}

test('streamed LINEAR16 and G.711 equal the whole-clip encoding', () => {
  for (const encoding of ['LINEAR16', 'MULAW', 'ALAW'] as const) {
    for (const sampleRateHz of [8000, 22050, 48000]) {
      const format: OutputFormat = { encoding, wav: false, sampleRateHz, volumeGainDb: -6 };
      assert.deepEqual(streamed(format), encodeClip(input, 22050, format).bytes, `${encoding}@${sampleRateHz}`);
    }
  }
});

test('a streamed WAV parses to the whole clip; a streamed Ogg Opus decodes', async () => {
  const wav = parseWav(streamed({ encoding: 'LINEAR16', wav: true, sampleRateHz: 16000, volumeGainDb: 0 }));
  assert.equal(wav.sampleRateHz, 16000);
  assert.equal(wav.samples.length, 16000);
  const opus = await decodeAudio(streamed({ encoding: 'OGG_OPUS', wav: false, sampleRateHz: 24000, volumeGainDb: 0 }), 'OGG_OPUS', 0);
  assert.equal(opus.samples.length, 48000);
  assert.ok(Math.abs(rms(opus.samples) - rms(input)) < rms(input) * 0.1);
});
