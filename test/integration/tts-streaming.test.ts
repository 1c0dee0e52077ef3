/**
 * StreamingSynthesize over real mTLS: audio leaves while the engine is still working, a slow reader's audio waits
 * in a bounded buffer instead of holding a worker, and a cancelled or timed-out stream stops its worker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { collectServerStream, openServerStream } from '../../src/client/grpc-client.js';
import { decodeAudio } from '../../src/audio/decode-audio.js';
import { bufferToPcm16, rmsDbfs } from '../../src/audio/pcm.js';
import { parseWav } from '../../src/audio/wav.js';
import { createTextToSpeechService, TTS_SERVICE_NAME, TtsConfigSchema, type TextToSpeechService } from '../../src/services/tts/index.js';
import type { StreamingSynthesizeResponse__Output } from '../../src/generated/gatehouse/tts/v1/StreamingSynthesizeResponse.js';
import type { TtsEngine } from '../../src/engines/tts-engine.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { assertRejects } from '../helpers/assert-status.js';

/** About 2000 characters: two minutes of speech, a second or more of synthesis. */
const LONG = Array.from(
  { length: 16 },
  (_, i) =>
    `Paragraph ${i + 1}. The gateway streams audio while the engine is still speaking, so the listener hears the start long before the end is ready.`,
).join(' ');

let gw: TestGateway;
let client: grpc.Client;
let tts: TextToSpeechService;
let espeak: TtsEngine;
/** Wall time of one full, unthrottled streaming synthesis of LONG at 48 kHz, measured by the first test. */
let fullSynthesisMs = 0;
/** Seconds of audio in that synthesis. */
let fullSynthesisAudioSeconds = 0;

before(async () => {
  tts = createTextToSpeechService({ registry: new Registry(), config: TtsConfigSchema.parse({ workers: 2, flite: { enabled: false } }) });
  gw = await startGateway({ extraServices: [tts] });
  client = gw.client(TTS_SERVICE_NAME);
  espeak = tts.engines[0]!;
});

after(async () => {
  await gw?.close();
});

type Msg = StreamingSynthesizeResponse__Output;

/** Reads a stream, timing each message from the moment the call was made. */
async function timedStream(request: unknown): Promise<{ messages: Msg[]; at: number[] }> {
  const started = performance.now();
  const messages: Msg[] = [];
  const at: number[] = [];
  for await (const m of openServerStream<Msg>(client, 'streamingSynthesize', request)) {
    messages.push(m as Msg);
    at.push(performance.now() - started);
  }
  return { messages, at };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}

test('the first chunk arrives long before synthesis of a long text finishes; the chunks form one valid clip', async () => {
  const { messages, at } = await timedStream({ input: { text: LONG }, voice: { name: 'en-US' }, audioConfig: { sampleRateHertz: 48000 } });
  const total = at.at(-1)!;
  const pcm = bufferToPcm16(Buffer.concat(messages.map((m) => m.audioChunk)));
  const seconds = pcm.length / 48000;
  // Later tests compare against this run; recorded before any assertion can stop this test.
  fullSynthesisMs = total;
  fullSynthesisAudioSeconds = seconds;
  assert.ok(messages.length > 50, `${messages.length} messages`);
  assert.ok(at[0]! < 500, `first chunk after ${at[0]!.toFixed(0)} ms`);
  assert.ok(at[0]! < total / 5, `first chunk at ${at[0]!.toFixed(0)} ms of ${total.toFixed(0)} ms`);
  assert.deepEqual(
    { ...messages[0]!.audioInfo },
    { audioEncoding: 'LINEAR16', sampleRateHertz: 48000, container: 'RAW', voiceName: 'en-US', durationSeconds: 0, languageCode: 'en-US' },
  );
  assert.ok(
    messages.slice(1).every((m) => m.audioInfo === null),
    'audio_info only on the first message',
  );
  assert.ok(seconds > 60 && seconds < 240, `${seconds} s of audio for ${LONG.length} characters`);
  assert.ok(rmsDbfs(pcm) > -35);
});

test('streamed OGG_OPUS decodes and streamed WAV has a header', async () => {
  const text = 'Streaming in Opus. One, two, three, four, five.';
  const opus = await collectServerStream<Msg>(client, 'streamingSynthesize', { input: { text }, audioConfig: { audioEncoding: 'OGG_OPUS' } });
  const decoded = await decodeAudio(Buffer.concat(opus.map((m) => m.audioChunk)), 'OGG_OPUS', 0);
  assert.ok(decoded.samples.length / 48000 > 2);
  assert.ok(rmsDbfs(decoded.samples) > -35);
  const wav = await collectServerStream<Msg>(client, 'streamingSynthesize', {
    input: { text },
    audioConfig: { audioEncoding: 'MULAW', sampleRateHertz: 8000, container: 'WAV' },
  });
  const parsed = parseWav(Buffer.concat(wav.map((m) => m.audioChunk)));
  assert.equal(parsed.format, 'mulaw');
  assert.equal(parsed.sampleRateHz, 8000);
  assert.ok(parsed.samples.length / 8000 > 2);
});

test('a streamed template is the spliced clip', async () => {
  const messages = await collectServerStream<Msg>(client, 'streamingSynthesize', {
    input: { templateInput: { template: 'Итак, мы переводим {sum} {name}', slots: { sum: '1000', name: 'Азамату' } } },
    voice: { languageCode: 'ru' },
  });
  const pcm = bufferToPcm16(Buffer.concat(messages.map((m) => m.audioChunk)));
  assert.ok(pcm.length / 22050 > 1.5);
  assert.equal(messages[0]!.audioInfo!.voiceName, 'ru');
});

test('a slow reader holds buffered audio, not a worker: the synthesis finishes, the reader still gets every byte', async () => {
  assert.ok(fullSynthesisMs > 0 && fullSynthesisAudioSeconds > 0, 'needs the figures from the first test');
  const completed = espeak.stats().completed;
  const call = openServerStream<Msg>(client, 'streamingSynthesize', {
    input: { text: LONG },
    voice: { name: 'en-US' },
    audioConfig: { sampleRateHertz: 48000 },
  });
  const done = new Promise((resolve, reject) => {
    call.on('end', resolve);
    call.on('error', reject);
  });
  done.catch(() => undefined);
  const chunks: Buffer[] = [];
  try {
    await new Promise<void>((r) =>
      call.once('data', (m: Msg) => {
        chunks.push(m.audioChunk);
        r();
      }),
    );
    call.pause();
    // The synthesiser runs to its end into the engine's bounded buffer and gives its worker back.
    assert.ok(await until(() => espeak.stats().busy === 0, Math.max(5000, 4 * fullSynthesisMs)), 'the worker is free while the reader is paused');
    assert.equal(espeak.stats().completed, completed, 'the call is not complete: its reader has not read');
    assert.ok(espeak.stats().bufferedBytes > 1_000_000, `${espeak.stats().bufferedBytes} bytes wait in the buffer`);
    call.on('data', (m: Msg) => chunks.push(m.audioChunk));
    call.resume();
    await done;
    assert.equal(espeak.stats().completed, completed + 1, 'it completes once the reader has read everything');
    assert.equal(espeak.stats().bufferedBytes, 0);
    const seconds = Buffer.concat(chunks).length / 2 / 48000;
    assert.ok(Math.abs(seconds - fullSynthesisAudioSeconds) < 0.05, `${seconds} s delivered, ${fullSynthesisAudioSeconds} s unthrottled`);
  } finally {
    call.cancel();
  }
});

test('cancelling a long stream stops its worker', async () => {
  const before = espeak.stats();
  const call = openServerStream<Msg>(client, 'streamingSynthesize', { input: { text: LONG }, voice: { name: 'en-US' } });
  call.on('error', () => undefined); // CANCELLED, expected
  await new Promise((r) => call.once('data', r));
  call.cancel();
  assert.ok(await until(() => espeak.stats().cancelled === before.cancelled + 1, 2000), 'the synthesis was cancelled');
  assert.ok(await until(() => espeak.stats().busy === 0, 500), 'the worker is free again');
  assert.equal(espeak.stats().completed, before.completed, 'the cancelled synthesis did not run to the end');
  assert.equal(espeak.stats().replaced, before.replaced, 'it stopped by itself, no worker had to be killed');
});

test('a deadline stops a long stream with DEADLINE_EXCEEDED and frees the worker', async () => {
  const before = espeak.stats();
  const call = collectServerStream<Msg>(client, 'streamingSynthesize', { input: { text: LONG }, voice: { name: 'en-US' } }, { deadline: 150 });
  await assertRejects(call, 'DEADLINE_EXCEEDED');
  assert.ok(await until(() => espeak.stats().busy === 0, 2000), 'the worker is free again');
  assert.equal(espeak.stats().completed, before.completed);
});
