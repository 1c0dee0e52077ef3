import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { AudioFormatError, encodeAudio, encodeWav } from '../../src/audio/index.js';
import { GatehouseError } from '../../src/errors.js';
import type { RecognitionConfig__Output } from '../../src/generated/gatehouse/stt/v1/RecognitionConfig.js';
import { validateRecognitionConfig } from '../../src/services/stt/recognition-config.js';
import { decodeClipTo16k, StreamAudioDecoder } from '../../src/services/stt/stream-audio-decoder.js';
import { SttConfigSchema } from '../../src/services/stt/stt-config.js';
import { interimStability, msToDuration } from '../../src/services/stt/to-proto.js';

const RAW = readFileSync('/usr/share/pocketsphinx/test/data/goforward.raw');
const SAMPLES = new Int16Array(RAW.buffer.slice(RAW.byteOffset, RAW.byteOffset + RAW.length));

const base: RecognitionConfig__Output = {
  encoding: 'LINEAR16',
  sampleRateHertz: 16000,
  audioChannelCount: 0,
  languageCode: '',
  maxAlternatives: 0,
  enableWordTimeOffsets: false,
  speechContexts: [],
  grammarJsgf: '',
};

describe('STT config section', () => {
  it('has defaults for everything and rejects unknown keys', () => {
    const c = SttConfigSchema.parse(undefined);
    assert.equal(c.workers, 2);
    assert.equal(c.modelDir, '/usr/share/pocketsphinx/model/en-us');
    assert.throws(() => SttConfigSchema.parse({ wrokers: 3 }));
    assert.throws(() => SttConfigSchema.parse({ workers: 0 }));
  });
});

describe('RecognitionConfig validation', () => {
  it('normalises a good config', () => {
    const v = validateRecognitionConfig({ ...base, encoding: 'ENCODING_UNSPECIFIED', speechContexts: [{ phrases: [' Go Forward ', ''] }] }, 'config');
    assert.deepEqual(v, { encoding: 'LINEAR16', sampleRateHz: 16000, maxAlternatives: 1, wordTimeOffsets: false, phrases: ['go forward'] });
  });

  it('lists every violation in one INVALID_ARGUMENT', () => {
    assert.throws(
      () =>
        validateRecognitionConfig(
          { ...base, sampleRateHertz: 7, audioChannelCount: 2, languageCode: 'de-DE', maxAlternatives: 12 },
          'streaming_config.config',
        ),
      (e: unknown) => {
        assert.ok(e instanceof GatehouseError, `expected a GatehouseError, got ${String(e)}`);
        assert.equal(e.code, status.INVALID_ARGUMENT);
        assert.deepEqual(
          e.details.fieldViolations?.map((v) => v.field),
          [
            'streaming_config.config.sample_rate_hertz',
            'streaming_config.config.audio_channel_count',
            'streaming_config.config.language_code',
            'streaming_config.config.max_alternatives',
          ],
        );
        assert.match(e.message, /4 problems/);
        return true;
      },
    );
    assert.throws(
      () => validateRecognitionConfig(null, 'config'),
      (e: unknown) => e instanceof GatehouseError && e.code === status.INVALID_ARGUMENT && /config is required/.test(e.message),
    );
  });
});

describe('audio to 16 kHz', () => {
  it('decodes whole clips of every encoding to about the same number of 16 kHz samples', async () => {
    for (const [enc, rate, bytes] of [
      ['LINEAR16', 16000, RAW],
      ['LINEAR16', 0, encodeWav(SAMPLES, 16000)],
      ['MULAW', 16000, encodeAudio(SAMPLES, 16000, 'MULAW')],
      ['OGG_OPUS', 0, encodeAudio(SAMPLES, 16000, 'OGG_OPUS')],
    ] as const) {
      const { samples } = await decodeClipTo16k(bytes, enc, rate);
      assert.ok(Math.abs(samples.length - SAMPLES.length) < 400, `${enc}: ${samples.length}`);
    }
    await assert.rejects(
      decodeClipTo16k(RAW, 'LINEAR16', 4000),
      (e: unknown) => e instanceof AudioFormatError && /4000 Hz is not supported/.test(e.message),
    );
  });

  it('streams: a WAV header in the first chunk, odd chunks refused, resampling across chunk edges', async () => {
    const wav = encodeWav(SAMPLES, 16000);
    const d = new StreamAudioDecoder('LINEAR16', 0);
    let n = 0;
    for (let i = 0; i < wav.length; i += 3200) n += (await d.push(wav.subarray(i, i + 3200))).length;
    n += (await d.end()).length;
    assert.equal(n, SAMPLES.length);
    const odd = new StreamAudioDecoder('LINEAR16', 16000);
    await odd.push(RAW.subarray(0, 100));
    await assert.rejects(odd.push(RAW.subarray(0, 101)), /message 2 has 101 bytes/);
    const mu = new StreamAudioDecoder('MULAW', 8000);
    const bytes = encodeAudio(
      SAMPLES.filter((_, i) => i % 2 === 0),
      8000,
      'MULAW',
    );
    let m = 0;
    for (let i = 0; i < bytes.length; i += 799) m += (await mu.push(bytes.subarray(i, i + 799))).length;
    m += (await mu.end()).length;
    assert.ok(Math.abs(m - SAMPLES.length) <= 2, `8 kHz -> 16 kHz gave ${m} samples`);
  });

  it('streams OGG_OPUS page by page and refuses a stream that decodes to nothing', async () => {
    const opus = encodeAudio(SAMPLES, 16000, 'OGG_OPUS');
    const d = new StreamAudioDecoder('OGG_OPUS', 0);
    let n = 0;
    try {
      for (let i = 0; i < opus.length; i += 500) n += (await d.push(opus.subarray(i, i + 500))).length;
      n += (await d.end()).length;
    } finally {
      d.close();
    }
    assert.ok(Math.abs(n - SAMPLES.length) < 1000, `${n}`);
    const bad = new StreamAudioDecoder('OGG_OPUS', 0);
    try {
      await bad.push(Buffer.concat([opus.subarray(0, 100), Buffer.alloc(2000, 0x55)]));
      await assert.rejects(bad.end(), /no audio could be decoded/);
    } finally {
      bad.close();
    }
  });
});

describe('wire helpers', () => {
  it('turns milliseconds into Durations and measures interim stability', () => {
    assert.deepEqual(msToDuration(2120), { seconds: '2', nanos: 120_000_000 });
    assert.equal(interimStability('', 'go'), 0);
    assert.equal(interimStability('go for', 'go forward'), 0.5);
    assert.equal(interimStability('go forward ten', 'go forward ten meters'), 0.75);
  });
});
