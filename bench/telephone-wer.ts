/**
 * Telephone audio round trip: TextToSpeech speaks five English sentences at 8 kHz (LINEAR16 and MULAW, the format of
 * phone lines) and at 16 kHz, SpeechToText (PocketSphinx, wideband en-US model: no narrowband model is in Debian or
 * npm) hears them; prints the word error rate per voice and format. Run: npx tsx bench/telephone-wer.ts
 */

import { Registry } from 'prom-client';
import { callUnary } from '../src/client/grpc-client.js';
import { wordErrorRate } from '../src/engines/pocketsphinx/word-error-rate.js';
import type { RecognizeResponse__Output } from '../src/generated/gatehouse/stt/v1/RecognizeResponse.js';
import type { SynthesizeResponse__Output } from '../src/generated/gatehouse/tts/v1/SynthesizeResponse.js';
import { createSpeechToTextService, SPEECH_TO_TEXT_SERVICE_NAME, SttConfigSchema } from '../src/services/stt/index.js';
import { createTextToSpeechService, TTS_SERVICE_NAME, TtsConfigSchema } from '../src/services/tts/index.js';
import { startGateway } from '../test/helpers/start-gateway.js';

/** Sentences in words as spoken (the reference for WER). */
const SENTENCES = [
  'i would like to order a pizza',
  'please call me back tomorrow morning',
  'the weather is nice today',
  'my account number has changed',
  'can you transfer the money to my sister',
];
const VOICES = ['kal16', 'slt', 'en-US'];
const FORMATS = [
  ['LINEAR16', 8000],
  ['MULAW', 8000],
  ['LINEAR16', 16000],
] as const;

const registry = new Registry();
const gw = await startGateway({
  extraServices: [
    createTextToSpeechService({ registry, config: TtsConfigSchema.parse({ workers: 1, flite: { workers: 1 } }) }),
    createSpeechToTextService({ registry, config: SttConfigSchema.parse({ workers: 1 }) }),
  ],
});
try {
  const tts = gw.client(TTS_SERVICE_NAME);
  const stt = gw.client(SPEECH_TO_TEXT_SERVICE_NAME);
  console.log('WER of PocketSphinx on TextToSpeech output, five English sentences (Recognize, unary):');
  for (const voice of VOICES) {
    const cells: string[] = [];
    for (const [encoding, sampleRateHertz] of FORMATS) {
      const pairs = [];
      for (const text of SENTENCES) {
        const audioConfig = { audioEncoding: encoding, sampleRateHertz };
        const spoken = await callUnary<SynthesizeResponse__Output>(tts, 'synthesize', { input: { text }, voice: { name: voice }, audioConfig });
        const heard = await callUnary<RecognizeResponse__Output>(
          stt,
          'recognize',
          { config: { encoding, sampleRateHertz }, audio: { content: spoken.audioContent } },
          { deadline: 60000 },
        );
        pairs.push({ reference: text, hypothesis: heard.results.map((r) => r.alternatives[0]?.transcript ?? '').join(' ') });
      }
      cells.push(`${encoding} ${sampleRateHertz / 1000} kHz ${(wordErrorRate(pairs) * 100).toFixed(0)}%`);
    }
    console.log(`  ${voice.padEnd(6)} ${cells.join(', ')}`);
  }
} finally {
  await gw.close();
}
