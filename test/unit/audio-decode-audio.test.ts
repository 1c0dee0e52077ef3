import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAudio } from '../../src/audio/decode-audio.js';
import { encodeAudio } from '../../src/audio/encode-audio.js';
import { AudioFormatError } from '../../src/audio/audio-format-error.js';
import { rms } from '../../src/audio/pcm.js';

const samples = Int16Array.from({ length: 8000 }, (_, i) => Math.round(9000 * Math.sin((2 * Math.PI * 300 * i) / 16000)));

async function rejectsWith(p: Promise<unknown>, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AudioFormatError, `expected AudioFormatError, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('every encoding round-trips through encodeAudio/decodeAudio, raw and in WAV', async () => {
  for (const enc of ['LINEAR16', 'MULAW', 'ALAW'] as const) {
    for (const wav of [false, true]) {
      const bytes = encodeAudio(samples, 16000, enc, wav);
      const out = await decodeAudio(bytes, enc, wav ? 0 : 16000);
      assert.equal(out.sampleRateHz, 16000);
      assert.equal(out.samples.length, samples.length);
      if (enc === 'LINEAR16') assert.deepEqual(out.samples, samples);
      else assert.ok(Math.abs(rms(out.samples) - rms(samples)) < 100);
    }
  }
  const opus = await decodeAudio(encodeAudio(samples, 16000, 'OGG_OPUS'), 'OGG_OPUS', 16000);
  assert.equal(opus.sampleRateHz, 48000);
  assert.equal(opus.samples.length, samples.length * 3);
});

test('a WAV header must agree with the declared rate and encoding', async () => {
  const wav = encodeAudio(samples, 16000, 'LINEAR16', true);
  await rejectsWith(decodeAudio(wav, 'LINEAR16', 8000), 'sample_rate_hertz 8000 does not match the WAV header (16000)');
  assert.equal((await decodeAudio(wav, 'LINEAR16', 16000)).samples.length, samples.length);
  await rejectsWith(decodeAudio(wav, 'MULAW', 16000), 'encoding MULAW does not match the WAV header, which holds 16-bit PCM audio');
});

test('raw audio errors are specific', async () => {
  await rejectsWith(decodeAudio(Buffer.alloc(12345), 'LINEAR16', 16000), 'LINEAR16 audio must have an even number of bytes, got 12345');
  await rejectsWith(decodeAudio(Buffer.alloc(100), 'LINEAR16', 0), 'sample_rate_hertz is required for headerless LINEAR16 audio');
  await rejectsWith(decodeAudio(Buffer.alloc(100), 'MULAW', 0), /required for headerless MULAW/);
  await rejectsWith(decodeAudio(encodeAudio(samples, 16000, 'OGG_OPUS'), 'LINEAR16', 16000), /looks like an Ogg file/);
  await rejectsWith(decodeAudio(Buffer.from('garbage!'), 'OGG_OPUS', 16000), /^audio_content is not a valid Ogg Opus stream: /);
});
