/**
 * Slow readers must not starve synthesis (issue 12, item 18). With the default two eSpeak NG workers, two
 * StreamingSynthesize clients that stop reading used to hold both workers, paused for backpressure, so every other
 * eSpeak call waited until it timed out. Now a paused stream's audio goes to a bounded buffer and its worker is
 * released as soon as the synthesis is done. (Before the fix this test fails: the workers stay busy, and the third
 * call ends with DEADLINE_EXCEEDED.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { callUnary, openServerStream } from '../../src/client/grpc-client.js';
import { createTextToSpeechService, TTS_SERVICE_NAME, TtsConfigSchema, type TextToSpeechService } from '../../src/services/tts/index.js';
import type { SynthesizeResponse__Output } from '../../src/generated/gatehouse/tts/v1/SynthesizeResponse.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

/**
 * About 2500 characters, two to three minutes of speech (some 15 MB at 48 kHz): far more than HTTP/2 flow control
 * and grpc-js buffer between a client that does not read and the server, within the default 5000-character limit.
 */
const TEXT = Array.from(
  { length: 24 },
  (_, i) => `Part ${i + 1}. A client that opens a stream and then stops reading must not keep a speech engine.`,
).join(' ');

let gw: TestGateway;
let tts: TextToSpeechService;

before(async () => {
  // Default pool settings: two eSpeak workers (Flite off, so every call below is eSpeak's).
  tts = createTextToSpeechService({ registry: new Registry(), config: TtsConfigSchema.parse({ flite: { enabled: false } }) });
  gw = await startGateway({ extraServices: [tts] });
});

after(async () => {
  await gw?.close();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('two streams that stop reading do not hold both eSpeak workers: a third call is served at once', async () => {
  const espeak = tts.engines[0]!;
  assert.equal(espeak.stats().workers, 2);
  const streams: grpc.ClientReadableStream<unknown>[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      // Each on its own client; each takes the first message (audio_info) and then never reads again.
      const call = openServerStream(gw.client(TTS_SERVICE_NAME), 'streamingSynthesize', {
        input: { text: TEXT },
        voice: { name: 'en-US' },
        audioConfig: { sampleRateHertz: 48000 },
      });
      call.on('error', () => undefined); // CANCELLED at the end
      streams.push(call);
      await new Promise((r) => call.once('data', r));
      call.pause();
    }
    // Let both syntheses run to their end (seconds on a loaded machine). Before the fix they never did: each
    // paused, holding its worker, once the connection's flow-control window was full.
    const t0 = performance.now();
    while ((espeak.stats().started < 2 || espeak.stats().busy > 0) && performance.now() - t0 < 30_000) await sleep(50);
    // The deadline is shorter than the queue's 5 s wait: only a free worker can serve the call in time.
    const reply = await callUnary<SynthesizeResponse__Output>(
      gw.client(TTS_SERVICE_NAME),
      'synthesize',
      { input: { text: 'Still here.' }, voice: { name: 'en-US' } },
      { deadline: 4000 },
    );
    assert.ok(reply.audioInfo!.durationSeconds > 0.3, 'the third call got its audio');
    const stats = espeak.stats();
    assert.equal(stats.busy, 0, 'no worker is held by the paused streams');
    assert.equal(stats.completed, 1, 'the paused streams have not completed: their readers have not read');
    // Their audio waits in the engine's buffer, which is bounded (32 MiB by default).
    assert.ok(stats.bufferedBytes > 100_000 && stats.bufferedBytes <= 32 * 1024 * 1024, `${stats.bufferedBytes} bytes buffered`);
  } finally {
    for (const call of streams) call.cancel();
  }
  const t2 = performance.now();
  while (espeak.stats().bufferedBytes > 0 && performance.now() - t2 < 5000) await sleep(20);
  assert.equal(espeak.stats().bufferedBytes, 0, 'cancelled streams give their buffer back');
});
