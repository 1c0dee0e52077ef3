import type * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';

import { encodeAudio, encodeWav, oggCrc32, pcm16ToBuffer, resamplePcm16 } from '../../src/audio/index.js';
import { callUnary, openBidiStream } from '../../src/client/grpc-client.js';
import { wordErrors } from '../../src/engines/pocketsphinx/word-error-rate.js';
import type { RecognizeResponse__Output } from '../../src/generated/gatehouse/stt/v1/RecognizeResponse.js';
import type { StreamingRecognizeResponse__Output } from '../../src/generated/gatehouse/stt/v1/StreamingRecognizeResponse.js';
import { createSpeechToTextService, SPEECH_TO_TEXT_SERVICE_NAME, SttConfigSchema, type SttConfig } from '../../src/services/stt/index.js';
import { assertRejects } from '../helpers/assert-status.js';
import { checkHealth } from '../helpers/health-client.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const GOFORWARD = '/usr/share/pocketsphinx/test/data/goforward.raw';
const RAW = readFileSync(GOFORWARD);
const SAMPLES = new Int16Array(RAW.buffer.slice(RAW.byteOffset, RAW.byteOffset + RAW.length));
const EXPECTED = 'go forward ten meters';

type Duration = { seconds: string; nanos: number } | null;
const ms = (d: Duration): number => (d ? Number(d.seconds) * 1000 + d.nanos / 1e6 : NaN);

function recognize(client: grpc.Client, config: Record<string, unknown>, content: Buffer, deadlineMs = 20000): Promise<RecognizeResponse__Output> {
  return callUnary<RecognizeResponse__Output>(client, 'recognize', { config, audio: { content } }, { deadline: deadlineMs });
}

function transcriptOf(r: RecognizeResponse__Output): string {
  return r.results
    .map((x) => x.alternatives[0]?.transcript ?? '')
    .join(' ')
    .trim();
}

/** Runs a stream: sends `messages` (awaiting `gapMs` between them) and collects every reply until the server ends. */
async function stream(client: grpc.Client, messages: unknown[], gapMs = 0, signal?: AbortSignal): Promise<StreamingRecognizeResponse__Output[]> {
  const call = openBidiStream<unknown, StreamingRecognizeResponse__Output>(client, 'streamingRecognize', { deadline: 30000, signal });
  const replies: StreamingRecognizeResponse__Output[] = [];
  const done = (async () => {
    for await (const r of call) replies.push(r as StreamingRecognizeResponse__Output);
  })();
  void (async () => {
    for (const m of messages) {
      if (call.writableEnded || call.destroyed) return;
      if (!call.write(m)) await new Promise((r) => call.once('drain', r));
      if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    }
    call.end();
  })().catch(() => undefined);
  await done;
  return replies;
}

function chunks(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

const streamingConfig = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  streamingConfig: { config, interimResults: true, ...extra },
});

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => (x.labels as Record<string, unknown>)[k] === val));
  return Number(v?.value ?? NaN);
}

describe('SpeechToText over mTLS', () => {
  let gw: TestGateway;
  let client: grpc.Client;
  const registry = new Registry();
  const config: SttConfig = SttConfigSchema.parse({ workers: 2, queueMax: 1, queueTimeoutMs: 300, maxAudioSeconds: 10, maxAudioBytes: 1024 * 1024 });

  before(async () => {
    gw = await startGateway({ extraServices: [createSpeechToTextService({ registry, config })] });
    client = gw.client(SPEECH_TO_TEXT_SERVICE_NAME);
  });
  after(async () => {
    await gw.close();
  });

  it('is SERVING once its decoders are warm', async () => {
    assert.equal(await checkHealth(gw.healthTarget, gw.credentials('insecure'), SPEECH_TO_TEXT_SERVICE_NAME), 'SERVING');
  });

  it('Recognize returns the exact transcript with word offsets', async () => {
    const r = await recognize(client, { encoding: 'LINEAR16', sampleRateHertz: 16000, enableWordTimeOffsets: true, maxAlternatives: 2 }, RAW);
    assert.equal(r.results.length, 1);
    const [best, second] = r.results[0]!.alternatives;
    assert.equal(best!.transcript, EXPECTED);
    assert.ok(best!.confidence > 0.5 && best!.confidence <= 1);
    assert.notEqual(second!.transcript, EXPECTED);
    assert.deepEqual(
      best!.words.map((w) => [w.word, ms(w.startTime as Duration), ms(w.endTime as Duration)]),
      [
        ['go', 460, 640],
        ['forward', 640, 1170],
        ['ten', 1170, 1530],
        ['meters', 1530, 2120],
      ],
    );
    assert.ok(Math.abs(ms(r.totalAudioTime as Duration) - 2786) <= 1);
    assert.ok((await metric(registry, 'gatehouse_stt_audio_seconds_total')) >= 2.78);
  });

  it('Recognize leaves words out unless offsets are asked for, and reads WAV without a declared rate', async () => {
    const r = await recognize(client, { encoding: 'ENCODING_UNSPECIFIED' }, encodeWav(SAMPLES, 16000));
    assert.equal(transcriptOf(r), EXPECTED);
    assert.deepEqual(r.results[0]!.alternatives[0]!.words, []);
  });

  it('MULAW, ALAW and OGG_OPUS made from the same audio recognise to (nearly) the same words', async () => {
    const at8k = resamplePcm16(SAMPLES, 16000, 8000);
    const at48k = resamplePcm16(SAMPLES, 16000, 48000);
    const cases: Array<[string, Record<string, unknown>, Buffer]> = [
      ['MULAW 16 kHz', { encoding: 'MULAW', sampleRateHertz: 16000 }, encodeAudio(SAMPLES, 16000, 'MULAW')],
      ['ALAW 16 kHz WAV', { encoding: 'ALAW' }, encodeAudio(SAMPLES, 16000, 'ALAW', true)],
      ['LINEAR16 48 kHz', { encoding: 'LINEAR16', sampleRateHertz: 48000 }, pcm16ToBuffer(at48k)],
      ['OGG_OPUS', { encoding: 'OGG_OPUS' }, encodeAudio(SAMPLES, 16000, 'OGG_OPUS')],
    ];
    // One at a time: this gateway's queue holds a single waiter.
    for (const [name, cfg, bytes] of cases) {
      const transcript = transcriptOf(await recognize(client, cfg, bytes));
      const { errors } = wordErrors(EXPECTED, transcript);
      assert.ok(errors <= 1, `${name}: "${transcript}" is ${errors} words away from "${EXPECTED}"`);
    }
    // Telephone-band audio is accepted and resampled, but the wide-band en-US model hears it poorly: no accuracy claim.
    const phone = await recognize(client, { encoding: 'MULAW', sampleRateHertz: 8000 }, encodeAudio(at8k, 8000, 'MULAW'));
    assert.ok(Math.abs(ms(phone.totalAudioTime as Duration) - 2786) <= 1);
  });

  it('StreamingRecognize in 100 ms chunks gives interim results, then the final with word offsets', async () => {
    const replies = await stream(client, [
      streamingConfig({ encoding: 'LINEAR16', sampleRateHertz: 16000, enableWordTimeOffsets: true }),
      ...chunks(RAW, 3200).map((c) => ({ audioContent: c })),
    ]);
    const results = replies.flatMap((r) => r.results);
    const firstFinal = results.findIndex((r) => r.isFinal);
    assert.ok(firstFinal > 0, `no final result: ${JSON.stringify(results)}`);
    const interims = results.slice(0, firstFinal);
    assert.ok(interims.length >= 3 && interims.every((r) => !r.isFinal && r.alternatives[0]!.transcript.length > 0));
    // Each interim differs from the one before; stability is within 0..1.
    for (let i = 1; i < interims.length; i++) assert.notEqual(interims[i]!.alternatives[0]!.transcript, interims[i - 1]!.alternatives[0]!.transcript);
    for (const r of interims) assert.ok(r.stability >= 0 && r.stability <= 1);
    const finals = results.filter((r) => r.isFinal);
    assert.equal(finals.length, 1);
    assert.equal(finals[0]!.alternatives[0]!.transcript, EXPECTED);
    assert.deepEqual(
      finals[0]!.alternatives[0]!.words.map((w) => ms(w.startTime as Duration)),
      [460, 640, 1170, 1530],
    );
  });

  it('StreamingRecognize decodes OGG_OPUS and MULAW streams chunk by chunk', async () => {
    for (const [cfg, bytes, size] of [
      [{ encoding: 'OGG_OPUS' }, encodeAudio(SAMPLES, 16000, 'OGG_OPUS'), 1000],
      [{ encoding: 'MULAW', sampleRateHertz: 16000 }, encodeAudio(SAMPLES, 16000, 'MULAW'), 1600],
    ] as const) {
      const replies = await stream(client, [
        streamingConfig(cfg as Record<string, unknown>),
        ...chunks(bytes as Buffer, size as number).map((c) => ({ audioContent: c })),
      ]);
      const finals = replies.flatMap((r) => r.results).filter((r) => r.isFinal);
      assert.equal(finals.length, 1, JSON.stringify(replies));
      assert.ok(wordErrors(EXPECTED, finals[0]!.alternatives[0]!.transcript).errors <= 1, finals[0]!.alternatives[0]!.transcript);
    }
  });

  it('single_utterance ends the stream after the first utterance with END_OF_SINGLE_UTTERANCE', async () => {
    // Two utterances back to back with a second of silence between them; only the first is answered.
    const twice = Buffer.concat([RAW, Buffer.alloc(32000), RAW]);
    const replies = await stream(client, [
      streamingConfig({ encoding: 'LINEAR16', sampleRateHertz: 16000 }, { singleUtterance: true, interimResults: false }),
      ...chunks(twice, 3200).map((c) => ({ audioContent: c })),
    ]);
    const events = replies.map((r) =>
      r.speechEventType === 'END_OF_SINGLE_UTTERANCE'
        ? 'END'
        : r.results.map((x) => (x.isFinal ? `final:${x.alternatives[0]!.transcript}` : 'interim')).join(),
    );
    assert.deepEqual(events, ['END', `final:${EXPECTED}`]);
  });

  it('without single_utterance each utterance gets its own final result', async () => {
    const twice = Buffer.concat([RAW, Buffer.alloc(32000), RAW]);
    const replies = await stream(client, [
      streamingConfig({ encoding: 'LINEAR16', sampleRateHertz: 16000, enableWordTimeOffsets: true }, { interimResults: false }),
      ...chunks(twice, 6400).map((c) => ({ audioContent: c })),
    ]);
    const finals = replies.flatMap((r) => r.results).filter((r) => r.isFinal);
    assert.deepEqual(
      finals.map((f) => f.alternatives[0]!.transcript),
      [EXPECTED, EXPECTED],
    );
    // The second utterance's words are timed from the start of the stream.
    assert.ok(ms(finals[1]!.alternatives[0]!.words[0]!.startTime as Duration) > 3000);
  });

  it('a cancelled stream returns its decoder to the pool at once', async () => {
    const ac = new AbortController();
    const call = openBidiStream<unknown, StreamingRecognizeResponse__Output>(client, 'streamingRecognize', { signal: ac.signal });
    call.on('error', () => undefined);
    call.on('data', () => undefined);
    call.write(streamingConfig({ encoding: 'LINEAR16', sampleRateHertz: 16000 }));
    for (const c of chunks(RAW, 3200).slice(0, 10)) call.write({ audioContent: c });
    // Wait until the server holds a decoder for this stream.
    for (let i = 0; i < 200 && (await metric(registry, 'gatehouse_stt_decoders', { state: 'busy' })) < 1; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(await metric(registry, 'gatehouse_stt_decoders', { state: 'busy' }), 1);
    const t0 = performance.now();
    ac.abort();
    while ((await metric(registry, 'gatehouse_stt_decoders', { state: 'idle' })) < 2) {
      assert.ok(performance.now() - t0 < 1000, 'the decoder did not come back within 1 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    // And it works for the next caller.
    assert.equal(transcriptOf(await recognize(client, { encoding: 'LINEAR16', sampleRateHertz: 16000 }, RAW)), EXPECTED);
  });

  it('all decoders busy: a call waits in the bounded queue, then gets RESOURCE_EXHAUSTED', async () => {
    const holders = [new AbortController(), new AbortController()];
    const held = holders.map((ac) => {
      const call = openBidiStream<unknown, unknown>(client, 'streamingRecognize', { signal: ac.signal });
      call.on('error', () => undefined);
      call.on('data', () => undefined);
      call.write(streamingConfig({ encoding: 'LINEAR16', sampleRateHertz: 16000 }));
      return call;
    });
    try {
      for (let i = 0; i < 300 && (await metric(registry, 'gatehouse_stt_decoders', { state: 'busy' })) < 2; i++)
        await new Promise((r) => setTimeout(r, 10));
      const waiting = recognize(client, { encoding: 'LINEAR16', sampleRateHertz: 16000 }, RAW);
      await new Promise((r) => setTimeout(r, 50));
      // The queue holds one caller (queueMax 1): the next is turned away at once.
      const t0 = performance.now();
      await assertRejects(recognize(client, { encoding: 'LINEAR16', sampleRateHertz: 16000 }, RAW), 'RESOURCE_EXHAUSTED', /busy/);
      assert.ok(performance.now() - t0 < 250);
      await assertRejects(waiting, 'RESOURCE_EXHAUSTED', /all pocketsphinx workers stayed busy for 300 ms; retry later/);
      assert.equal(await metric(registry, 'gatehouse_stt_rejected_total', { reason: 'queue_full' }), 1);
      assert.equal(await metric(registry, 'gatehouse_stt_rejected_total', { reason: 'queue_timeout' }), 1);
    } finally {
      for (const ac of holders) ac.abort();
      void held;
    }
    for (let i = 0; i < 200 && (await metric(registry, 'gatehouse_stt_decoders', { state: 'idle' })) < 2; i++)
      await new Promise((r) => setTimeout(r, 10));
  });

  describe('bad input gets INVALID_ARGUMENT with a clear message', () => {
    const raw16 = { encoding: 'LINEAR16', sampleRateHertz: 16000 };

    it('streams without a config first, or with the config twice', async () => {
      await assertRejects(stream(client, [{ audioContent: RAW.subarray(0, 3200) }]), 'INVALID_ARGUMENT', /first message must carry streaming_config/);
      await assertRejects(stream(client, []), 'INVALID_ARGUMENT', /without a streaming_config/);
      await assertRejects(
        stream(client, [streamingConfig(raw16), { audioContent: RAW.subarray(0, 3200) }, streamingConfig(raw16)]),
        'INVALID_ARGUMENT',
        /streaming_config was sent twice/,
      );
    });

    it('an odd byte count for 16-bit audio', async () => {
      await assertRejects(recognize(client, raw16, RAW.subarray(0, 3201)), 'INVALID_ARGUMENT', /even number of bytes/);
      await assertRejects(
        stream(client, [streamingConfig(raw16), { audioContent: RAW.subarray(0, 3200) }, { audioContent: RAW.subarray(0, 1601) }]),
        'INVALID_ARGUMENT',
        /even number of bytes/,
      );
    });

    it('a sample rate that does not match the WAV header', async () => {
      const wav = encodeWav(SAMPLES, 16000);
      const { details } = await assertRejects(
        recognize(client, { encoding: 'LINEAR16', sampleRateHertz: 8000 }, wav),
        'INVALID_ARGUMENT',
        /sample_rate_hertz 8000 does not match the WAV header \(16000\)/,
      );
      assert.ok(details);
      await assertRejects(
        stream(client, [streamingConfig({ encoding: 'LINEAR16', sampleRateHertz: 44100 }), ...chunks(wav, 3200).map((c) => ({ audioContent: c }))]),
        'INVALID_ARGUMENT',
        /does not match the WAV header/,
      );
    });

    it('audio over the maximum duration or size', async () => {
      const long = encodeAudio(new Int16Array(8000 * 11), 8000, 'MULAW'); // 11 s > 10 s
      await assertRejects(recognize(client, { encoding: 'MULAW', sampleRateHertz: 8000 }, long), 'INVALID_ARGUMENT', /at most 10 s/);
      await assertRejects(
        stream(client, [streamingConfig({ encoding: 'MULAW', sampleRateHertz: 8000 }), ...chunks(long, 16000).map((c) => ({ audioContent: c }))]),
        'INVALID_ARGUMENT',
        /more than 10 s of audio/,
      );
      const big = Buffer.alloc(1024 * 1024 + 2);
      await assertRejects(recognize(client, { encoding: 'LINEAR16', sampleRateHertz: 48000 }, big), 'INVALID_ARGUMENT', /at most 1048576 bytes/);
    });

    it('an undecodable Opus stream', async () => {
      await assertRejects(recognize(client, { encoding: 'OGG_OPUS' }, RAW), 'INVALID_ARGUMENT', /not a valid Ogg Opus stream/);
      const opus = encodeAudio(SAMPLES, 16000, 'OGG_OPUS');
      // Valid Ogg Opus headers followed by bytes that are not Ogg pages: nothing decodes.
      const broken = Buffer.concat([opus.subarray(0, 100), Buffer.alloc(4000, 0x55)]);
      await assertRejects(recognize(client, { encoding: 'OGG_OPUS' }, broken), 'INVALID_ARGUMENT', /no audio could be decoded/);
      await assertRejects(
        stream(client, [streamingConfig({ encoding: 'OGG_OPUS' }), ...chunks(broken, 1000).map((c) => ({ audioContent: c }))]),
        'INVALID_ARGUMENT',
        /no audio could be decoded/,
      );
      await assertRejects(
        stream(client, [streamingConfig({ encoding: 'OGG_OPUS' }), { audioContent: RAW.subarray(0, 3200) }]),
        'INVALID_ARGUMENT',
        /not a valid Ogg Opus stream/,
      );
    });

    it('an OpusHead with channel mapping family 1 and no mapping table, whole or streamed in small chunks', async () => {
      const opus = Buffer.from(encodeAudio(SAMPLES, 16000, 'OGG_OPUS'));
      // The first page holds only the 19-byte OpusHead; declare family 1 (which needs a table) and fix the CRC.
      const headAt = 27 + opus[26]!;
      opus[headAt + 18] = 1;
      opus.writeUInt32LE(0, 22);
      opus.writeUInt32LE(oggCrc32(opus.subarray(0, headAt + opus[27]!)), 22);
      const why = /channel mapping family 1 but has no channel mapping table/;
      await assertRejects(recognize(client, { encoding: 'OGG_OPUS' }, opus), 'INVALID_ARGUMENT', why);
      for (const size of [7, 1000]) {
        await assertRejects(
          stream(client, [
            streamingConfig({ encoding: 'OGG_OPUS' }),
            ...chunks(opus, size)
              .slice(0, 200)
              .map((c) => ({ audioContent: c })),
          ]),
          'INVALID_ARGUMENT',
          why,
        );
      }
    });

    it('config problems: rate, channels, language, alternatives, grammar, unknown hint words', async () => {
      await assertRejects(recognize(client, { encoding: 'LINEAR16' }, RAW), 'INVALID_ARGUMENT', /sample_rate_hertz is required/);
      await assertRejects(recognize(client, { encoding: 'LINEAR16', sampleRateHertz: 1234 }, RAW), 'INVALID_ARGUMENT', /sample_rate_hertz/);
      await assertRejects(recognize(client, { ...raw16, audioChannelCount: 2 }, RAW), 'INVALID_ARGUMENT', /only mono/);
      await assertRejects(recognize(client, { ...raw16, languageCode: 'ru-RU' }, RAW), 'INVALID_ARGUMENT', /only en-US/);
      await assertRejects(recognize(client, { ...raw16, maxAlternatives: 11 }, RAW), 'INVALID_ARGUMENT', /max_alternatives/);
      await assertRejects(
        recognize(client, { ...raw16, grammarJsgf: '#JSGF V1.0; grammar g; public <a> = go flumpfy;' }, RAW),
        'INVALID_ARGUMENT',
        /flumpfy/,
      );
      await assertRejects(
        recognize(client, { ...raw16, speechContexts: [{ phrases: ['go forward', 'zzyzxq'] }] }, RAW),
        'INVALID_ARGUMENT',
        /zzyzxq/,
      );
      await assertRejects(recognize(client, raw16, Buffer.alloc(0)), 'INVALID_ARGUMENT', /audio.content is empty/);
    });
  });

  it('a JSGF grammar constrains recognition', async () => {
    const r = await recognize(
      client,
      {
        ...{ encoding: 'LINEAR16', sampleRateHertz: 16000 },
        grammarJsgf: '#JSGF V1.0;\ngrammar nav;\npublic <cmd> = go (forward | back) (one | two | ten) meters;',
      },
      RAW,
    );
    assert.equal(transcriptOf(r), EXPECTED);
  });

  it('records real-time factor and queue wait', async () => {
    const rtf = (await registry.getMetricsAsJSON()).find((m) => m.name === 'gatehouse_stt_real_time_factor');
    const count = rtf?.values.find((v) => (v as { metricName?: string }).metricName === 'gatehouse_stt_real_time_factor_count');
    assert.ok(Number(count?.value) >= 5);
    assert.ok((await metric(registry, 'gatehouse_stt_rejected_total', { reason: 'invalid_argument' })) >= 10);
  });
});

describe('SpeechToText without its Debian packages', () => {
  it('is NOT_SERVING and answers UNAVAILABLE naming the package, while the rest of the gateway serves', async () => {
    const config = SttConfigSchema.parse({ workers: 1 });
    const gw = await startGateway({
      extraServices: [
        createSpeechToTextService({
          registry: new Registry(),
          config,
          engine: { libraries: { pocketsphinx: 'libpocketsphinx-not-installed.so.3' } },
        }),
      ],
    });
    try {
      const insecure = gw.credentials('insecure');
      assert.equal(await checkHealth(gw.healthTarget, insecure, SPEECH_TO_TEXT_SERVICE_NAME), 'NOT_SERVING');
      assert.equal(await checkHealth(gw.healthTarget, insecure, 'cheesefarm.v1.CheeseService'), 'SERVING');
      const client = gw.client(SPEECH_TO_TEXT_SERVICE_NAME);
      await assertRejects(
        recognize(client, { encoding: 'LINEAR16', sampleRateHertz: 16000 }, RAW),
        'UNAVAILABLE',
        /apt-get install libpocketsphinx3/,
      );
      await assertRejects(stream(client, [streamingConfig({ encoding: 'LINEAR16', sampleRateHertz: 16000 })]), 'UNAVAILABLE', /libpocketsphinx3/);
    } finally {
      await gw.close();
    }
  });
});
