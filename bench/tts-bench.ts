/**
 * TextToSpeech benchmark over a real gateway (mTLS on loopback, as a client sees it). Prints:
 *   - warm real-time factor per voice (wall time of Synthesize / seconds of audio),
 *   - streaming time to first chunk for a sentence and for a long text,
 *   - throughput with 1, 2, 4 and 8 concurrent callers,
 *   - the speed-up of a template call with cached fragments over plain synthesis of the same sentence,
 *   - per template and voice: spliced length against the same sentence synthesised whole (aim: within 5%), the
 *     slots' level against the same words in the whole sentence, and for English templates the word error rate of
 *     PocketSphinx (SpeechToText in the same gateway) on the template and on the whole sentence.
 *
 * Run: npx tsx bench/tts-bench.ts [--workers 2] [--runs 10] [--only templates]
 * Figures depend on the machine and on what else runs on it; aims from the issue: first chunk under 50 ms warm for
 * a sentence, template at least 3x faster than full synthesis. Lengths, levels and WER do not depend on the machine.
 */
import { EventEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { callUnary, openServerStream } from '../src/client/grpc-client.js';
import { createTextToSpeechService, TTS_SERVICE_NAME, TtsConfigSchema, type SplicedPiece } from '../src/services/tts/index.js';
import { createSpeechToTextService, SPEECH_TO_TEXT_SERVICE_NAME, SttConfigSchema } from '../src/services/stt/index.js';
import type { SynthesizeResponse__Output } from '../src/generated/gatehouse/tts/v1/SynthesizeResponse.js';
import { startGateway } from '../test/helpers/start-gateway.js';
import { measureTemplates } from './tts-template-quality.js';

const { values } = parseArgs({
  options: { workers: { type: 'string', default: '2' }, runs: { type: 'string', default: '10' }, only: { type: 'string' } },
});
const workers = Number(values.workers);
const runs = Number(values.runs);
/** `--only templates` runs the template figures alone (length, level, recognition), without the timing ones before them. */
const templatesOnly = values.only === 'templates';
if (values.only !== undefined && !templatesOnly) throw new Error(`--only takes "templates", not ${values.only}`);

const PARAGRAPH: Record<string, string> = {
  'en-US':
    'The gateway turns text into speech with a pool of warm engines. Each request gets its own worker, and audio is streamed back as soon as it is produced.',
  ru: 'Шлюз превращает текст в речь с помощью пула прогретых движков. Каждый запрос получает свой поток, а звук отправляется клиенту сразу, как только он готов.',
  kal16:
    'The gateway turns text into speech with a pool of warm engines. Each request gets its own worker, and audio is streamed back as soon as it is produced.',
};
const SENTENCE = 'Hello, this is a short sentence for the streaming test.';
const LONG = Array.from({ length: 12 }, () => PARAGRAPH['en-US']).join(' ');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

/**
 * Calls the service's Synthesize handler in-process with a stand-in call object: the server-side work (synthesis,
 * splicing, encoding) without TLS, HTTP/2 and protobuf, which cost the same for every request of a given size.
 */
function handlerMs(request: { input: Record<string, unknown> }): Promise<number> {
  // proto-loader adds a virtual field naming the oneof member that is set; requests decoded off the wire have it.
  const inputSource = 'text' in request.input ? 'text' : 'templateInput';
  const call = Object.assign(new EventEmitter(), {
    request: { ...request, input: { ...request.input, inputSource } },
    metadata: new grpc.Metadata(),
    getDeadline: () => Infinity,
    getPath: () => `/${TTS_SERVICE_NAME}/Synthesize`,
    getAuthContext: () => undefined,
  });
  const handler = tts.implementation.Synthesize as unknown as (c: unknown, cb: (e: unknown, r: unknown) => void) => void;
  const t0 = performance.now();
  return new Promise((resolve, reject) => handler(call, (error) => (error ? reject(error) : resolve(performance.now() - t0))));
}

async function timeUnary(client: grpc.Client, request: unknown): Promise<{ ms: number; seconds: number }> {
  const t0 = performance.now();
  const reply = await callUnary<SynthesizeResponse__Output>(client, 'synthesize', request);
  return { ms: performance.now() - t0, seconds: reply.audioInfo!.durationSeconds };
}

async function firstChunkMs(client: grpc.Client, request: unknown): Promise<{ first: number; total: number }> {
  const t0 = performance.now();
  let first = 0;
  for await (const _ of openServerStream(client, 'streamingSynthesize', request)) {
    if (first === 0) first = performance.now() - t0;
  }
  return { first, total: performance.now() - t0 };
}

const placed: SplicedPiece[] = [];
const tts = createTextToSpeechService({
  registry: new Registry(),
  config: TtsConfigSchema.parse({ workers, flite: { workers: 1 } }),
  onSplicedPiece: (p) => placed.push(p),
});
const stt = createSpeechToTextService({ registry: new Registry(), config: SttConfigSchema.parse({ workers: 1 }) });
const started = performance.now();
const gw = await startGateway({ extraServices: [tts, stt] });
const client = gw.client(TTS_SERVICE_NAME);
console.log(`gateway with ${workers} eSpeak worker(s) and 1 Flite worker warm after ${ms(performance.now() - started)}; ${runs} runs per figure\n`);

try {
  if (!templatesOnly) {
    console.log("Warm real-time factor (unary Synthesize, LINEAR16 at the voice's rate; lower is faster):");
    for (const voice of Object.keys(PARAGRAPH)) {
      const request = { input: { text: PARAGRAPH[voice] }, voice: { name: voice } };
      await timeUnary(client, request);
      const samples: number[] = [];
      let seconds = 0;
      for (let i = 0; i < runs; i++) {
        const r = await timeUnary(client, request);
        samples.push(r.ms);
        seconds = r.seconds;
      }
      console.log(
        `  ${voice.padEnd(6)} ${seconds.toFixed(1)} s of audio in ${ms(median(samples))} (median) -> RTF ${(median(samples) / 1000 / seconds).toFixed(3)}`,
      );
    }

    console.log('\nStreaming time to first chunk (StreamingSynthesize, LINEAR16, voice en-US):');
    for (const [label, text] of [
      ['sentence', SENTENCE],
      ['long text', LONG],
    ] as const) {
      const request = { input: { text }, voice: { name: 'en-US' } };
      await firstChunkMs(client, request);
      const firsts: number[] = [];
      const totals: number[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await firstChunkMs(client, request);
        firsts.push(r.first);
        totals.push(r.total);
      }
      console.log(
        `  ${label.padEnd(9)} (${text.length} chars): first chunk p50 ${ms(median(firsts))}, p95 ${ms(pct(firsts, 0.95))}; whole stream p50 ${ms(median(totals))}`,
      );
    }

    console.log('\nThroughput with concurrent callers (unary Synthesize of a ~9 s paragraph, en-US):');
    const request = { input: { text: PARAGRAPH['en-US'] }, voice: { name: 'en-US' } };
    for (const callers of [1, 2, 4, 8]) {
      const latencies: number[] = [];
      let audio = 0;
      const perCaller = Math.max(2, Math.ceil(runs / 2));
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: callers }, async () => {
          for (let i = 0; i < perCaller; i++) {
            const r = await timeUnary(client, request);
            latencies.push(r.ms);
            audio += r.seconds;
          }
        }),
      );
      const wall = (performance.now() - t0) / 1000;
      console.log(
        `  ${String(callers).padStart(2)} callers: ${(latencies.length / wall).toFixed(1)} calls/s, ${(audio / wall).toFixed(0)} s of audio per second, latency p50 ${ms(median(latencies))}, p95 ${ms(pct(latencies, 0.95))}`,
      );
    }

    console.log('\nTemplate with cached fragments vs plain synthesis of the same sentence (unary, LINEAR16 at 22050 Hz);');
    console.log('"in handler" is the server-side work alone (no TLS, HTTP/2 or protobuf, which cost the same for both):');
    const cases = [
      {
        voice: 'ru',
        template:
          'Уважаемый клиент, мы переводим {sum} {name}. Перевод будет выполнен в течение одного рабочего дня. Спасибо, что пользуетесь нашим банком!',
        slots: [
          { sum: '1000', name: 'Азамату' },
          { sum: '250', name: 'Марине' },
          { sum: '75', name: 'Олегу' },
        ],
      },
      {
        voice: 'en-US',
        template:
          'Dear customer, we are transferring {sum} to {name}. The transfer will be completed within one business day. Thank you for banking with us!',
        slots: [
          { sum: '1000 dollars', name: 'Alice' },
          { sum: '250 dollars', name: 'Bob' },
          { sum: '75 dollars', name: 'Carol' },
        ],
      },
    ];
    for (const c of cases) {
      const fill = (slots: Record<string, string>) => c.template.replace(/\{(\w+)\}/g, (_, k: string) => slots[k]!);
      const full = (slots: Record<string, string>) => ({ input: { text: fill(slots) }, voice: { name: c.voice } });
      const spliced = (slots: Record<string, string>) => ({ input: { templateInput: { template: c.template, slots } }, voice: { name: c.voice } });
      await timeUnary(client, spliced(c.slots[0]!)); // fills the cache
      const wire = { full: [] as number[], spliced: [] as number[] };
      const local = { full: [] as number[], spliced: [] as number[] };
      // Interleaved, so background load hits both sides alike.
      for (let i = 0; i < 2 * runs; i++) {
        const slots = c.slots[i % c.slots.length]!;
        wire.full.push((await timeUnary(client, full(slots))).ms);
        wire.spliced.push((await timeUnary(client, spliced(slots))).ms);
        local.full.push(await handlerMs(full(slots)));
        local.spliced.push(await handlerMs(spliced(slots)));
      }
      const line = (label: string, x: { full: number[]; spliced: number[] }) =>
        `  ${c.voice.padEnd(6)} ${label}: full ${ms(median(x.full))}, template ${ms(median(x.spliced))} (medians) -> ${(median(x.full) / median(x.spliced)).toFixed(1)}x; ` +
        `p25 ${(pct(x.full, 0.25) / pct(x.spliced, 0.25)).toFixed(1)}x`;
      console.log(line('over mTLS ', wire));
      console.log(line('in handler', local));
    }
    const stats = tts.engines.map((e) => `${e.name}: ${JSON.stringify(e.stats())}`).join('\n  ');
    console.log(`\nEngine counters:\n  ${stats}\nFragment cache: ${JSON.stringify(tts.fragmentCacheSize())}`);
  }
  console.log("\nTemplate against the same sentence synthesised whole (unary, LINEAR16 at the voice's rate; WER at 16 kHz):");
  const over = await measureTemplates(client, gw.client(SPEECH_TO_TEXT_SERVICE_NAME), placed);
  console.log(
    over.length === 0 ? '\nEvery template is within 5% of its whole sentence.' : `\nNot within 5% of the whole sentence:\n  ${over.join('\n  ')}`,
  );
  process.exitCode = over.length === 0 ? 0 : 1;
} finally {
  await gw.close();
}
