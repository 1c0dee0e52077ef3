import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { decodeAudio } from '../../src/audio/index.js';
import { RecognizerRequestError } from '../../src/engines/pocketsphinx/index.js';
import { GatehouseError } from '../../src/errors.js';
import { mapRecognitionError } from '../../src/services/stt/map-engine-error.js';
import { createSttMetrics } from '../../src/services/stt/stt-metrics.js';

/** Issue 12, item 15: a field violation names the field its message is about. */
describe('speech-to-text field violations', () => {
  const metrics = createSttMetrics(new Registry(), () => undefined);
  const signal = new AbortController().signal;
  const violationsOf = async (audio: Promise<unknown>, audioField: string, configPath: string) => {
    const mapped = mapRecognitionError(
      await audio.then(
        () => assert.fail('decoding must fail'),
        (e: unknown) => e,
      ),
      signal,
      metrics,
      audioField,
      configPath,
    );
    assert.ok(mapped instanceof GatehouseError);
    return { message: mapped.message, fields: mapped.details.fieldViolations?.map((v) => v.field) };
  };

  it('headerless LINEAR16 without a sample rate names config.sample_rate_hertz, not the audio', async () => {
    const { message, fields } = await violationsOf(decodeAudio(Buffer.alloc(3200), 'LINEAR16', 0), 'audio.content', 'config');
    assert.equal(message, 'sample_rate_hertz is required for headerless LINEAR16 audio');
    assert.deepEqual(fields, ['config.sample_rate_hertz']);
    assert.deepEqual((await violationsOf(decodeAudio(Buffer.alloc(3200), 'MULAW', 0), 'audio_content', 'streaming_config.config')).fields, [
      'streaming_config.config.sample_rate_hertz',
    ]);
  });

  it('an Ogg file declared LINEAR16 names the encoding; unreadable bytes name the audio', async () => {
    const ogg = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(60)]);
    assert.deepEqual((await violationsOf(decodeAudio(ogg, 'LINEAR16', 16000), 'audio.content', 'config')).fields, ['config.encoding']);
    assert.deepEqual((await violationsOf(decodeAudio(Buffer.alloc(3), 'LINEAR16', 16000), 'audio.content', 'config')).fields, ['audio.content']);
  });

  it('engine refusals name the field under the config they came in', () => {
    const error = new RecognizerRequestError('config.grammar_jsgf', 'grammar_jsgf must start with a "#JSGF V1.0;" header');
    const mapped = mapRecognitionError(error, signal, metrics, 'audio_content', 'streaming_config.config') as GatehouseError;
    assert.deepEqual(
      mapped.details.fieldViolations?.map((v) => v.field),
      ['streaming_config.config.grammar_jsgf'],
    );
  });
});
