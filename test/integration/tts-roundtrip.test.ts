/**
 * Round trip over real mTLS: TextToSpeech speaks an English sentence, SpeechToText (PocketSphinx) hears it, and the
 * words must come back. Flite's kal16 is the voice for this: eSpeak's formant voice is much harder for an acoustic
 * model trained on human speech.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { callUnary } from '../../src/client/grpc-client.js';
import { createTextToSpeechService, TTS_SERVICE_NAME, TtsConfigSchema } from '../../src/services/tts/index.js';
import { createSpeechToTextService, SPEECH_TO_TEXT_SERVICE_NAME, SttConfigSchema } from '../../src/services/stt/index.js';
import type { SynthesizeResponse__Output } from '../../src/generated/gatehouse/tts/v1/SynthesizeResponse.js';
import type { RecognizeResponse__Output } from '../../src/generated/gatehouse/stt/v1/RecognizeResponse.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
let tts: grpc.Client;
let stt: grpc.Client;

before(async () => {
  const registry = new Registry();
  gw = await startGateway({
    extraServices: [
      createTextToSpeechService({ registry, config: TtsConfigSchema.parse({ workers: 1, flite: { workers: 1 } }) }),
      createSpeechToTextService({ registry, config: SttConfigSchema.parse({ workers: 1 }) }),
    ],
  });
  tts = gw.client(TTS_SERVICE_NAME);
  stt = gw.client(SPEECH_TO_TEXT_SERVICE_NAME);
});

after(async () => {
  await gw?.close();
});

async function roundTrip(text: string, voice: string, encoding: string, sampleRateHertz: number): Promise<string> {
  const spoken = await callUnary<SynthesizeResponse__Output>(tts, 'synthesize', {
    input: { text },
    voice: { name: voice },
    audioConfig: { audioEncoding: encoding, sampleRateHertz, container: encoding === 'OGG_OPUS' ? 'RAW' : 'WAV' },
  });
  const heard = await callUnary<RecognizeResponse__Output>(stt, 'recognize', {
    config: { encoding, sampleRateHertz, languageCode: 'en-US' },
    audio: { content: spoken.audioContent },
  });
  return heard.results
    .map((r) => r.alternatives[0]?.transcript ?? '')
    .join(' ')
    .trim()
    .toLowerCase();
}

/** Fraction of the expected words found, in order, in the transcript. */
function wordsMatched(expected: string, transcript: string): number {
  const want = expected
    .toLowerCase()
    .replace(/[^a-z ]/g, '')
    .split(/\s+/)
    .filter(Boolean);
  const got = transcript.split(/\s+/);
  let j = 0;
  let matched = 0;
  for (const word of want) {
    const at = got.indexOf(word, j);
    if (at >= 0) {
      matched++;
      j = at + 1;
    }
  }
  return matched / want.length;
}

test('an English sentence spoken by kal16 is recognised word for word (WAV at 16 kHz)', async () => {
  const transcript = await roundTrip('I would like to order some cheese.', 'kal16', 'LINEAR16', 16000);
  assert.equal(transcript, 'i would like to order some cheese');
});

test('the words survive G.711, Opus and resampling (wide-band rates: the en-US model is trained on 16 kHz speech)', async () => {
  for (const text of ['I would like to order some cheese.', 'The weather is nice today.']) {
    for (const [encoding, rate] of [
      ['MULAW', 16000],
      ['OGG_OPUS', 48000],
      ['LINEAR16', 22050],
    ] as const) {
      const transcript = await roundTrip(text, 'kal16', encoding, rate);
      const score = wordsMatched(text, transcript);
      assert.ok(score >= 0.8, `${encoding}@${rate}: heard "${transcript}" for "${text}" (${Math.round(score * 100)}% of the words)`);
    }
  }
});

test('telephone audio: kal16 at 8 kHz (MULAW and LINEAR16) is still recognised, though the model is wideband', async () => {
  // Measured (README): the 8 kHz round trip keeps most words because unary recognition normalises by the caller's own
  // cepstral mean; before that it lost about three words in four. No narrowband model exists in Debian or npm.
  let matched = 0;
  let total = 0;
  for (const text of ['I would like to order a pizza.', 'Please call me back tomorrow morning.']) {
    for (const encoding of ['MULAW', 'LINEAR16'] as const) {
      const transcript = await roundTrip(text, 'kal16', encoding, 8000);
      matched += wordsMatched(text, transcript);
      total += 1;
    }
  }
  assert.ok(matched / total >= 0.6, `${Math.round((matched / total) * 100)}% of the words heard at 8 kHz`);
});
