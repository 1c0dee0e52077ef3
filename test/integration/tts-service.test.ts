/**
 * TextToSpeech over real mTLS: what a client sees for voices, every encoding and rate, templates, errors and
 * engine failures. Streaming, backpressure and cancellation are in tts-streaming.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { callUnary } from '../../src/client/grpc-client.js';
import { decodeAudio, type AudioEncodingName } from '../../src/audio/decode-audio.js';
import { parseWav } from '../../src/audio/wav.js';
import { rmsDbfs, peak } from '../../src/audio/pcm.js';
import { createPooledEngine } from '../../src/engines/pooled-engine.js';
import {
  createConfiguredEngines,
  createTextToSpeechService,
  TTS_SERVICE_NAME,
  TtsConfigSchema,
  type TextToSpeechService,
} from '../../src/services/tts/index.js';
import type { SynthesizeResponse__Output } from '../../src/generated/gatehouse/tts/v1/SynthesizeResponse.js';
import type { ListVoicesResponse__Output } from '../../src/generated/gatehouse/tts/v1/ListVoicesResponse.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { assertRejects } from '../helpers/assert-status.js';
import { envelopeCorrelation, speechSeconds } from '../helpers/tts-audio.js';

const RU = 'Привет! Это проверка синтеза русской речи.';
const EN = 'Hello! This is a test of English speech synthesis.';
const config = TtsConfigSchema.parse({ workers: 2, maxTextChars: 300 });

let gw: TestGateway;
let client: grpc.Client;
let tts: TextToSpeechService;
const registry = new Registry();

before(async () => {
  // A stand-in engine next to the real ones lets a test crash and hang a worker over the wire.
  const fake = createPooledEngine(
    {
      name: 'fake',
      workerUrl: new URL('../fixtures/tts-fake-synthesis-worker.ts', import.meta.url),
      toWorkerRequest: (_voice, request) => ({ mode: request.text, chunks: 5 }),
    },
    { workers: 1, hungTimeoutMs: 500 },
  );
  tts = createTextToSpeechService({ registry, config, engines: [...createConfiguredEngines(config), fake] });
  gw = await startGateway({ extraServices: [tts] });
  client = gw.client(TTS_SERVICE_NAME);
});

after(async () => {
  await gw?.close();
});

const synthesize = (request: unknown) => callUnary<SynthesizeResponse__Output>(client, 'synthesize', request);

async function decodeReply(
  reply: SynthesizeResponse__Output,
  encoding: AudioEncodingName,
  rate: number,
): Promise<{ samples: Int16Array; sampleRateHz: number }> {
  return decodeAudio(reply.audioContent, encoding, rate);
}

describe('ListVoices', () => {
  test('lists real voices with languages, gender, natural rate and engine, filtered by language', async () => {
    const all = await callUnary<ListVoicesResponse__Output>(client, 'listVoices', {});
    assert.ok(all.voices.length > 200, `${all.voices.length} voices`);
    const ru = await callUnary<ListVoicesResponse__Output>(client, 'listVoices', { languageCode: 'ru' });
    const names = ru.voices.map((v) => v.name);
    assert.ok(names.includes('ru') && names.includes('ru+f3'), names.join(','));
    assert.ok(ru.voices.every((v) => v.languageCodes.some((c) => c.toLowerCase().startsWith('ru'))));
    const voice = ru.voices.find((v) => v.name === 'ru')!;
    assert.deepEqual({ ...voice }, { languageCodes: ['ru'], name: 'ru', ssmlGender: 'MALE', naturalSampleRateHertz: 22050, engine: 'espeak-ng' });
    assert.equal(ru.voices.find((v) => v.name === 'ru+f3')!.ssmlGender, 'FEMALE');
    const en = await callUnary<ListVoicesResponse__Output>(client, 'listVoices', { languageCode: 'en-US' });
    const kal = en.voices.find((v) => v.name === 'kal16');
    assert.deepEqual(
      { ...kal },
      { languageCodes: ['en-US', 'en'], name: 'kal16', ssmlGender: 'MALE', naturalSampleRateHertz: 16000, engine: 'flite' },
    );
    assert.ok(en.voices.some((v) => v.name === 'en-US' && v.engine === 'espeak-ng'));
    assert.equal((await callUnary<ListVoicesResponse__Output>(client, 'listVoices', { languageCode: 'tlh' })).voices.length, 0);
    // en-US lists voices that speak en-US, not eSpeak's en-GB or en-029 voices that also answer to "en".
    for (const v of en.voices)
      assert.ok(
        v.languageCodes.some((c) => c === 'en-US' || c.startsWith('en-US-')),
        `${v.name} speaks ${v.languageCodes.join(',')}`,
      );
    assert.ok(!en.voices.some((v) => v.name === 'en' || v.name === 'en-029'), en.voices.map((v) => v.name).join(','));
    await assertRejects(
      callUnary(client, 'listVoices', { languageCode: 'not a language!' }),
      'INVALID_ARGUMENT',
      /language_code "not a language!" is not a BCP-47 language code/,
    );
  });
});

describe('Synthesize', () => {
  const encodings: AudioEncodingName[] = ['LINEAR16', 'MULAW', 'ALAW', 'OGG_OPUS'];
  const rates = [8000, 16000, 22050, 24000, 48000];
  for (const [language, text] of [
    ['ru', RU],
    ['en-US', EN],
  ] as const) {
    test(`${language}: valid audio of plausible duration and energy in every encoding and rate`, async () => {
      // Rates in parallel: the pool has two workers, and this is 40 calls.
      for (const encoding of encodings) {
        await Promise.all(
          rates.map(async (rate) => {
            const reply = await synthesize({
              input: { text },
              voice: { languageCode: language },
              audioConfig: { audioEncoding: encoding, sampleRateHertz: rate },
            });
            const where = `${encoding}@${rate}`;
            assert.equal(reply.audioInfo!.audioEncoding, encoding, where);
            assert.equal(reply.audioInfo!.sampleRateHertz, rate, where);
            const seconds = reply.audioInfo!.durationSeconds;
            assert.ok(seconds > 1.5 && seconds < 6, `${where}: ${seconds} s for a short sentence`);
            if (encoding === 'LINEAR16') assert.equal(reply.audioContent.length, Math.round(seconds * rate) * 2, where);
            if (encoding === 'MULAW' || encoding === 'ALAW') assert.equal(reply.audioContent.length, Math.round(seconds * rate), where);
            const audio = await decodeReply(reply, encoding, rate);
            const decodedSeconds = audio.samples.length / audio.sampleRateHz;
            assert.ok(Math.abs(decodedSeconds - seconds) < 0.01, `${where}: decoded ${decodedSeconds} s vs reported ${seconds} s`);
            const speech = speechSeconds(audio.samples, audio.sampleRateHz);
            assert.ok(speech > 1 && speech <= decodedSeconds, `${where}: ${speech} s of speech`);
            const level = rmsDbfs(audio.samples);
            assert.ok(level > -35 && level < -6, `${where}: level ${level.toFixed(1)} dBFS`);
          }),
        );
      }
    });
  }

  test('OGG_OPUS is a real Ogg Opus file: it decodes, and opusinfo accepts it', async (t) => {
    const reply = await synthesize({ input: { text: RU }, voice: { languageCode: 'ru' }, audioConfig: { audioEncoding: 'OGG_OPUS' } });
    assert.equal(reply.audioInfo!.sampleRateHertz, 48000, 'OGG_OPUS defaults to 48 kHz');
    const decoded = await decodeAudio(reply.audioContent, 'OGG_OPUS', 0);
    assert.ok(Math.abs(decoded.samples.length / 48000 - reply.audioInfo!.durationSeconds) < 0.01);
    assert.ok(rmsDbfs(decoded.samples) > -35);
    // Only a developer machine without opus-tools may leave opusinfo out; CI installs it (.ci/install-system-deps.sh) and must run it.
    if (spawnSync('opusinfo', ['-h']).error && !process.env.CI) {
      t.skip('opusinfo (opus-tools) not installed (never skipped under CI)');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tts-opus-'));
    try {
      writeFileSync(join(dir, 'a.opus'), reply.audioContent);
      const info = execFileSync('opusinfo', [join(dir, 'a.opus')], { encoding: 'utf8' });
      assert.match(info, /Channels: 1/);
      assert.doesNotMatch(info, /WARNING|ERROR/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('WAV container carries a correct header for LINEAR16, MULAW and ALAW', async () => {
    for (const [encoding, format] of [
      ['LINEAR16', 'pcm16'],
      ['MULAW', 'mulaw'],
      ['ALAW', 'alaw'],
    ] as const) {
      const reply = await synthesize({ input: { text: EN }, audioConfig: { audioEncoding: encoding, sampleRateHertz: 16000, container: 'WAV' } });
      const wav = parseWav(reply.audioContent);
      assert.equal(wav.format, format);
      assert.equal(wav.sampleRateHz, 16000);
      assert.ok(Math.abs(wav.samples.length / 16000 - reply.audioInfo!.durationSeconds) < 0.001);
      assert.equal(reply.audioInfo!.container, 'WAV');
    }
  });

  test('voice selection, rate, pitch and gain change the audio the way a client expects', async () => {
    const base = await synthesize({ input: { text: EN }, voice: { name: 'en-US' } });
    assert.equal(base.audioInfo!.voiceName, 'en-US');
    assert.equal(base.audioInfo!.sampleRateHertz, 22050, 'natural rate by default');
    const baseAudio = await decodeReply(base, 'LINEAR16', 22050);

    const fast = await synthesize({ input: { text: EN }, voice: { name: 'en-US' }, audioConfig: { speakingRate: 2 } });
    const ratio = fast.audioInfo!.durationSeconds / base.audioInfo!.durationSeconds;
    assert.ok(ratio > 0.4 && ratio < 0.75, `speaking_rate 2 made it ${ratio.toFixed(2)} as long`);

    const loud = await decodeReply(
      await synthesize({ input: { text: EN }, voice: { name: 'en-US' }, audioConfig: { volumeGainDb: -12 } }),
      'LINEAR16',
      22050,
    );
    const drop = rmsDbfs(baseAudio.samples) - rmsDbfs(loud.samples);
    assert.ok(Math.abs(drop - 12) < 1.5, `volume_gain_db -12 lowered the level by ${drop.toFixed(1)} dB`);
    assert.ok(peak(loud.samples) < peak(baseAudio.samples));

    const female = await synthesize({ input: { text: EN }, voice: { languageCode: 'en-US', ssmlGender: 'FEMALE' } });
    assert.equal(female.audioInfo!.voiceName, 'en-US+f3');
    const flite = await synthesize({ input: { text: EN }, voice: { name: 'kal16' } });
    assert.equal(flite.audioInfo!.sampleRateHertz, 16000);
    assert.ok(flite.audioInfo!.durationSeconds > 1.5);
  });
});

describe('template splicing', () => {
  const template = 'Итак, мы переводим {sum} {name}';
  const request = (slots: Record<string, string>, extra: Record<string, unknown> = {}) => ({
    input: { templateInput: { template, slots, ...extra } },
    voice: { name: 'ru' },
  });

  test('a template sounds like the whole sentence, and a second call synthesises only the slots', async () => {
    const espeak = tts.engines[0]!;
    const first = await synthesize(request({ sum: '1000', name: 'Азамату' }));
    // The slot is normalised after the fixed text: "переводим 1000" says "тысячу".
    const whole = (
      await decodeReply(await synthesize({ input: { text: 'Итак, мы переводим тысячу Азамату' }, voice: { name: 'ru' } }), 'LINEAR16', 22050)
    ).samples;
    const spliced = (await decodeReply(first, 'LINEAR16', 22050)).samples;
    // Each piece is synthesised with the words around it and cut at its edges, so the clip keeps the sentence's
    // timing: within 5% of the whole sentence (without that, the pieces' sentence-final endings made it +20%).
    assert.ok(Math.abs(spliced.length / whole.length - 1) < 0.05, `template ${spliced.length} samples vs whole sentence ${whole.length}`);
    const corr = envelopeCorrelation(spliced, whole, 22050);
    assert.ok(corr > 0.9, `the template clip has the shape of the whole sentence (r=${corr.toFixed(2)})`);
    assert.ok(Math.abs(rmsDbfs(spliced) - rmsDbfs(whole)) < 1, 'and its level');

    const before = espeak.stats().started;
    const hitsBefore = await counterValue('gatehouse_tts_template_cache_total', { result: 'hit' });
    const second = await synthesize(request({ sum: '250', name: 'Марине' }));
    assert.equal(espeak.stats().started - before, 1, 'only the slots ("250 Марине") were synthesised');
    assert.equal(await counterValue('gatehouse_tts_template_cache_total', { result: 'hit' }), hitsBefore + 1);
    assert.ok(second.audioInfo!.durationSeconds > 1.5);
    // Control: a clip with other slot values must resemble the whole sentence less.
    const other = envelopeCorrelation((await decodeReply(second, 'LINEAR16', 22050)).samples, whole, 22050);
    assert.ok(other < corr - 0.05, `r=${other.toFixed(2)} for different slots vs ${corr.toFixed(2)} for the same`);
  });

  test('a fixed piece ends and a slot starts as inside the sentence: eSpeak cuts them from a synthesis with the words around', async () => {
    const espeak = tts.engines[0]!;
    const seconds = async (request: { text: string; preceding?: string; continuation?: string }): Promise<number> => {
      let n = 0;
      await espeak.synthesize(
        { voiceName: 'en-US', speakingRate: 1, pitchSemitones: 0, ...request },
        {
          onChunk: (s) => {
            n += s.length;
          },
        },
      );
      return n / 22050;
    };
    assert.equal(espeak.synthesizesInContext, true);
    // "Hello" alone ends a sentence: a long final vowel. Before another word it is 0.15 s shorter, as in "Hello Alice.".
    const alone = await seconds({ text: 'Hello' });
    const before = await seconds({ text: 'Hello', continuation: 'Alice.' });
    const slot = await seconds({ text: 'Alice.', preceding: 'Hello' });
    const whole = await seconds({ text: 'Hello Alice.' });
    assert.ok(alone - before > 0.1, `"Hello" alone ${alone.toFixed(3)} s, before "Alice." ${before.toFixed(3)} s`);
    // Each cut piece keeps 6 ms of its context for the cross-fade (CONTEXT_MARGIN_MS).
    assert.ok(Math.abs(before + slot - 0.012 - whole) < 0.02, `pieces ${before.toFixed(3)} + ${slot.toFixed(3)} s vs whole ${whole.toFixed(3)} s`);
    // After a comma the piece keeps eSpeak's own pause up to where the next word starts.
    const comma = await seconds({ text: 'Hello,', continuation: 'Alice.' });
    assert.ok(comma - before > 0.1, `"Hello," before "Alice." ${comma.toFixed(3)} s carries the pause`);
  });

  test('Flite cuts pieces from a synthesis with the words around them too (segment end times from -psdur)', async () => {
    const flite = tts.engines.find((e) => e.name === 'flite')!;
    const seconds = async (request: { text: string; preceding?: string; continuation?: string }): Promise<number> => {
      let n = 0;
      await flite.synthesize(
        { voiceName: 'kal16', speakingRate: 1, pitchSemitones: 0, ...request },
        {
          onChunk: (s) => {
            n += s.length;
          },
        },
      );
      return n / 16000;
    };
    assert.equal(flite.synthesizesInContext, true);
    const whole = await seconds({ text: 'Your code is 4721.' });
    const fixed = await seconds({ text: 'Your code is', continuation: '4721.' });
    const slot = await seconds({ text: '4721.', preceding: 'code is' });
    // Each cut piece keeps 6 ms of its context for the cross-fade (CONTEXT_MARGIN_MS).
    assert.ok(Math.abs(fixed + slot - 0.012 - whole) < 0.03, `pieces ${fixed.toFixed(3)} + ${slot.toFixed(3)} s vs whole ${whole.toFixed(3)} s`);
    const alone = (await seconds({ text: 'Your code is' })) + (await seconds({ text: '4721.' }));
    assert.ok(alone - whole > 0.3, `synthesised alone the pieces are ${alone.toFixed(3)} s (silence and endings of their own)`);
  });

  test('a missing slot uses backup_phrase, or fails naming the slot', async () => {
    const withBackup = await synthesize(request({ sum: '1000' }, { backupPhrase: 'получателю' }));
    assert.ok(withBackup.audioInfo!.durationSeconds > 1.5);
    await assertRejects(
      synthesize(request({ sum: '1000' })),
      'INVALID_ARGUMENT',
      /no value for slot "name"; give it a value or set input.template_input.backup_phrase/,
    );
    await assertRejects(synthesize(request({})), 'INVALID_ARGUMENT', /slots "sum", "name"/);
  });
});

describe('voice by script', () => {
  test('text in Cyrillic without voice or language is spoken by a Russian voice, and audio_info says so', async () => {
    const reply = await synthesize({ input: { text: 'Привет, мир' } });
    assert.equal(reply.audioInfo!.voiceName, 'ru');
    assert.equal(reply.audioInfo!.languageCode, 'ru');
    const en = await synthesize({ input: { text: 'Hello, world' } });
    assert.equal(en.audioInfo!.languageCode, 'en-US');
    // Read as Russian, "Привет, мир" is about a second; spelled in English letters it was twice that.
    assert.ok(reply.audioInfo!.durationSeconds < 1.5, `${reply.audioInfo!.durationSeconds} s`);
    const template = await synthesize({
      input: { templateInput: { template: 'Итак, мы переводим {sum} {name}', slots: { sum: '1000', name: 'Азамату' } } },
    });
    assert.equal(template.audioInfo!.languageCode, 'ru');
  });
});

describe('bad input gets a code and a message a person can act on', () => {
  const cases: [string, unknown, keyof typeof import('@grpc/grpc-js').status, RegExp][] = [
    ['no input', { audioConfig: {} }, 'INVALID_ARGUMENT', /^input is required/],
    ['empty text', { input: { text: '   ' } }, 'INVALID_ARGUMENT', /^input.text is empty/],
    ['text over the limit', { input: { text: 'a'.repeat(301) } }, 'INVALID_ARGUMENT', /^input.text is 301 characters long; the limit is 300/],
    ['unknown voice', { input: { text: 'hi' }, voice: { name: 'nobody' } }, 'NOT_FOUND', /^voice "nobody" does not exist/],
    ['unknown language', { input: { text: 'hi' }, voice: { languageCode: 'tlh' } }, 'NOT_FOUND', /^no voice speaks language_code "tlh"/],
    ['malformed language', { input: { text: 'hi' }, voice: { languageCode: 'en_US!' } }, 'INVALID_ARGUMENT', /not a BCP-47 language code/],
    [
      'unsupported rate',
      { input: { text: 'hi' }, audioConfig: { sampleRateHertz: 11025 } },
      'INVALID_ARGUMENT',
      /^audio_config.sample_rate_hertz must be one of 8000, 16000, 22050, 24000, 48000, got 11025$/,
    ],
    [
      'unsupported encoding',
      { input: { text: 'hi' }, audioConfig: { audioEncoding: 9 } },
      'INVALID_ARGUMENT',
      /^audio_config.audio_encoding 9 is not supported; use LINEAR16, MULAW, ALAW or OGG_OPUS$/,
    ],
    [
      'WAV around Opus',
      { input: { text: 'hi' }, audioConfig: { audioEncoding: 'OGG_OPUS', container: 'WAV' } },
      'INVALID_ARGUMENT',
      /WAV cannot hold OGG_OPUS/,
    ],
    [
      'rate out of range',
      { input: { text: 'hi' }, audioConfig: { speakingRate: 5 } },
      'INVALID_ARGUMENT',
      /^audio_config.speaking_rate must be between 0.25 and 4, got 5$/,
    ],
    [
      'pitch out of range',
      { input: { text: 'hi' }, audioConfig: { pitch: -25 } },
      'INVALID_ARGUMENT',
      /^audio_config.pitch must be between -20 and 20 semitones, got -25$/,
    ],
    [
      'gain out of range',
      { input: { text: 'hi' }, audioConfig: { volumeGainDb: 20 } },
      'INVALID_ARGUMENT',
      /^audio_config.volume_gain_db must be between -96 and 16 dB, got 20$/,
    ],
    [
      'unbalanced {',
      { input: { templateInput: { template: 'Итак, {sum рублей' } } },
      'INVALID_ARGUMENT',
      /template has an unbalanced "\{" at character 7/,
    ],
    [
      'unbalanced }',
      { input: { templateInput: { template: 'Итак, sum} рублей' } } },
      'INVALID_ARGUMENT',
      /template has an unbalanced "\}" at character 10/,
    ],
    ['empty slot', { input: { templateInput: { template: 'Итак, {} рублей' } } }, 'INVALID_ARGUMENT', /empty slot "\{\}" at character 7/],
    ['empty template', { input: { templateInput: { template: '' } } }, 'INVALID_ARGUMENT', /template is empty/],
    [
      'speaking rate NaN',
      { input: { text: 'hi' }, audioConfig: { speakingRate: Number.NaN } },
      'INVALID_ARGUMENT',
      /^audio_config.speaking_rate must be between 0.25 and 4, got NaN$/,
    ],
    [
      'only control and zero-width characters',
      { input: { text: '\u0001\u200b\u200d\u0007\ufeff\u2060' } },
      'INVALID_ARGUMENT',
      /^input.text has only whitespace, control or zero-width characters/,
    ],
    [
      'a template of control characters',
      { input: { templateInput: { template: '\u0002{a}\u200b', slots: { a: '\u200c\u0003' } } } },
      'INVALID_ARGUMENT',
      /^input.template_input has nothing to say once slots are filled/,
    ],
    [
      'a slot named constructor without a value',
      { input: { templateInput: { template: 'Hello {constructor}' } } },
      'INVALID_ARGUMENT',
      /no value for slot "constructor"/,
    ],
    [
      'a slot named __proto__ without a value',
      { input: { templateInput: { template: 'Hello {__proto__}', slots: { toString: 'x' } } } },
      'INVALID_ARGUMENT',
      /no value for slot "__proto__"/,
    ],
  ];
  for (const [name, request, code, message] of cases) {
    test(name, async () => {
      for (const method of ['synthesize', 'streamingSynthesize'] as const) {
        const call = method === 'synthesize' ? synthesize(request) : readStream(request);
        const { details } = await assertRejects(call, code, message);
        if (code === 'INVALID_ARGUMENT') assert.ok(details?.fieldViolations?.length, `${method}: field violation attached`);
      }
    });
  }
});

describe('engine failures', () => {
  test('a hung or crashed worker fails only its own call, with UNAVAILABLE, and is replaced', async () => {
    const fake = tts.engines.find((e) => e.name === 'fake')!;
    const hung = synthesize({ input: { text: 'hang' }, voice: { name: 'fake' }, audioConfig: { sampleRateHertz: 8000 } });
    const meanwhile = synthesize({ input: { text: EN }, voice: { name: 'en-US' } });
    const failed = /^the fake worker serving this call (failed|stopped making progress) and has been replaced; retry$/;
    const hungReply = await assertRejects(hung, 'UNAVAILABLE', failed);
    assert.equal(hungReply.details?.errorInfo?.reason, 'ENGINE_WORKER_FAILED');
    assert.equal(hungReply.details?.retryDelayMs, 100, 'RetryInfo tells the client when to retry');
    assert.ok((await meanwhile).audioInfo!.durationSeconds > 1.5, 'other calls are unaffected');
    const crashed = await assertRejects(
      synthesize({ input: { text: 'exit' }, voice: { name: 'fake' }, audioConfig: { sampleRateHertz: 8000 } }),
      'UNAVAILABLE',
      failed,
    );
    assert.equal(crashed.details?.errorInfo?.reason, 'ENGINE_WORKER_FAILED');
    assert.equal(crashed.details?.retryDelayMs, 100);
    const { error, details } = await assertRejects(
      synthesize({ input: { text: 'throw' }, voice: { name: 'fake' }, audioConfig: { sampleRateHertz: 8000 } }),
      'INTERNAL',
      /^internal error \(reference [0-9a-f]{12}\); the operator can find the cause in the server log$/,
    );
    assert.doesNotMatch(error.details, /fake synthesiser failed/, 'the cause stays in the log');
    assert.ok(
      details?.errorInfo?.metadata.referenceId && error.details.includes(details.errorInfo.metadata.referenceId),
      'the reference id is in the details too',
    );
    const ok = await synthesize({ input: { text: 'ok' }, voice: { name: 'fake' }, audioConfig: { sampleRateHertz: 8000 } });
    assert.ok(ok.audioContent.length > 0, 'the replacement worker serves the next call');
    assert.equal(fake.stats().replaced, 2);
  });
});

test('metrics: audio seconds by voice, real-time factor and queue wait are recorded', async () => {
  assert.ok((await counterValue('gatehouse_tts_audio_seconds_total', { voice: 'ru' })) > 10);
  const text = await registry.metrics();
  assert.match(text, /gatehouse_tts_real_time_factor_count [1-9]/);
  assert.match(text, /gatehouse_tts_queue_wait_seconds_count [1-9]/);
  assert.match(text, /gatehouse_tts_workers\{engine="espeak-ng",state="idle"\} 2/);
});

async function counterValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}

async function readStream(request: unknown): Promise<unknown[]> {
  const { collectServerStream } = await import('../../src/client/grpc-client.js');
  return collectServerStream(client, 'streamingSynthesize', request);
}
