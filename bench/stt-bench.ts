/**
 * SpeechToText figures over mTLS against an in-process gateway:
 *  1. real-time factor of one Recognize call, and of N concurrent calls (aggregate throughput);
 *  2. time from the end of speech to the final result on a stream sent at real-time pace;
 *  3. what happens when more calls arrive than the pool has decoders plus queue places.
 * Run: npx tsx bench/stt-bench.ts [--workers 2] [--concurrency 2]
 * It prints figures; it asserts nothing. Bounded: a few dozen calls, well under a minute on 2 cores.
 */

import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';

import { callUnary, openBidiStream } from '../src/client/grpc-client.js';
import type { RecognizeResponse__Output } from '../src/generated/gatehouse/stt/v1/RecognizeResponse.js';
import type { StreamingRecognizeResponse__Output } from '../src/generated/gatehouse/stt/v1/StreamingRecognizeResponse.js';
import { createSpeechToTextService, SPEECH_TO_TEXT_SERVICE_NAME, SttConfigSchema } from '../src/services/stt/index.js';
import { startGateway } from '../test/helpers/start-gateway.js';
import { loadTestCorpus } from './stt-corpus.js';

const { values: args } = parseArgs({ options: { workers: { type: 'string', default: '2' }, concurrency: { type: 'string', default: '2' } } });
const workers = Number(args.workers);
const concurrency = Number(args.concurrency);

/** All LibriVox sentences back to back as one ~25 s clip of raw 16 kHz PCM. */
const corpus = loadTestCorpus();
const longClip = Buffer.concat(corpus.filter((c) => c.name.startsWith('sense')).map((c) => readFileSync(c.wavPath).subarray(44)));
const longSeconds = longClip.length / 32000;
const goforward = readFileSync(corpus.find((c) => c.name === 'goforward.raw')!.wavPath);
const raw16 = { encoding: 'LINEAR16', sampleRateHertz: 16000 };

async function engineRtf(registry: Registry): Promise<{ sum: number; count: number }> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'gatehouse_stt_real_time_factor');
  const get = (suffix: string): number =>
    Number(m?.values.find((v) => (v as { metricName?: string }).metricName === `gatehouse_stt_real_time_factor_${suffix}`)?.value ?? 0);
  return { sum: get('sum'), count: get('count') };
}

function recognize(client: grpc.Client, content: Buffer): Promise<RecognizeResponse__Output> {
  return callUnary<RecognizeResponse__Output>(client, 'recognize', { config: raw16, audio: { content } }, { deadline: 120000 });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function section1(client: grpc.Client, registry: Registry): Promise<void> {
  console.log(`\n1. Real-time factor (clip ${longSeconds.toFixed(1)} s, ${workers} decoders)`);
  await recognize(client, goforward); // first call pays for connection setup
  for (const n of [1, concurrency]) {
    const before = await engineRtf(registry);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, () => recognize(client, longClip)));
    const wallS = (performance.now() - t0) / 1000;
    const after = await engineRtf(registry);
    const engine = (after.sum - before.sum) / Math.max(1, after.count - before.count);
    console.log(
      `   ${String(n).padStart(2)} concurrent: wall ${wallS.toFixed(2)} s for ${(n * longSeconds).toFixed(1)} s of audio -> ` +
        `aggregate RTF ${(wallS / (n * longSeconds)).toFixed(3)}, per-call engine RTF ${engine.toFixed(3)}, throughput ${((n * longSeconds) / wallS).toFixed(1)}x real time`,
    );
  }
}

async function section2(client: grpc.Client): Promise<void> {
  console.log('\n2. End of speech to final result (goforward.raw at real-time pace, 100 ms chunks, then silence)');
  // pocketsphinx_continuous -time puts the last word's end at 2.12 s.
  const speechEndMs = 2120;
  const padded = Buffer.concat([goforward, Buffer.alloc(32000 * 2)]);
  const latencies: number[] = [];
  for (let run = 0; run < 3; run++) {
    const call = openBidiStream<unknown, StreamingRecognizeResponse__Output>(client, 'streamingRecognize', { deadline: 30000 });
    const t0 = performance.now();
    let finalAt = -1;
    let interims = 0;
    const done = (async () => {
      for await (const r of call) {
        const res = (r as StreamingRecognizeResponse__Output).results[0];
        if (res?.isFinal && finalAt < 0) finalAt = performance.now() - t0;
        else if (res && !res.isFinal) interims += 1;
      }
    })();
    call.write({ streamingConfig: { config: raw16, interimResults: true, singleUtterance: true } });
    for (let off = 0, i = 0; off < padded.length && finalAt < 0; off += 3200, i++) {
      // Chunk i holds audio up to (i + 1) * 100 ms: send it when that much real time has passed.
      const due = (i + 1) * 100 - (performance.now() - t0);
      if (due > 0) await sleep(due);
      call.write({ audioContent: padded.subarray(off, off + 3200) });
    }
    call.end();
    await done;
    // The chunk holding the end of speech left at about speechEndMs (rounded up to its 100 ms chunk).
    const speechSentAt = Math.ceil(speechEndMs / 100) * 100;
    latencies.push(finalAt - speechSentAt);
    console.log(`   run ${run + 1}: ${interims} interim results, final ${(finalAt - speechSentAt).toFixed(0)} ms after the end of speech was sent`);
  }
  console.log(
    `   mean ${(latencies.reduce((a, b) => a + b, 0) / latencies.length).toFixed(0)} ms (includes the ${SttConfigSchema.parse({}).endSilenceMs} ms of silence the detector waits for)`,
  );
}

async function section3(): Promise<void> {
  const queueMax = 2;
  const queueTimeoutMs = 1500;
  const calls = workers + queueMax + 4;
  console.log(
    `\n3. Pool saturation: ${calls} simultaneous ${longSeconds.toFixed(0)} s calls, ${workers} decoders, queue ${queueMax}, queue timeout ${queueTimeoutMs} ms`,
  );
  const registry = new Registry();
  const gw = await startGateway({
    extraServices: [createSpeechToTextService({ registry, config: SttConfigSchema.parse({ workers, queueMax, queueTimeoutMs }) })],
  });
  try {
    const client = gw.client(SPEECH_TO_TEXT_SERVICE_NAME);
    await recognize(client, goforward);
    const outcomes = await Promise.all(
      Array.from({ length: calls }, async () => {
        const t0 = performance.now();
        try {
          await recognize(client, longClip);
          return { what: 'OK', ms: performance.now() - t0 };
        } catch (e) {
          const err = e as grpc.ServiceError;
          return { what: `${Status[err.code]} (${/within/.test(err.details) ? 'queue timeout' : 'queue full'})`, ms: performance.now() - t0 };
        }
      }),
    );
    const groups = new Map<string, number[]>();
    for (const o of outcomes) groups.set(o.what, [...(groups.get(o.what) ?? []), o.ms]);
    for (const [what, ms] of groups)
      console.log(
        `   ${String(ms.length).padStart(2)} x ${what.padEnd(40)} answered after p50 ${pct(ms, 50).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms`,
      );
    const text = await registry.metrics();
    for (const line of text.split('\n')) if (/^gatehouse_stt_(rejected_total|queue_wait_seconds_(sum|count))/.test(line)) console.log(`   ${line}`);
  } finally {
    await gw.close();
  }
}

const registry = new Registry();
const gw = await startGateway({
  extraServices: [createSpeechToTextService({ registry, config: SttConfigSchema.parse({ workers, queueMax: 64, queueTimeoutMs: 600000 }) })],
});
try {
  const client = gw.client(SPEECH_TO_TEXT_SERVICE_NAME);
  await section1(client, registry);
  await section2(client);
} finally {
  await gw.close();
}
await section3();
