/**
 * eSpeak NG inside one worker thread, through `@echogarden/espeak-ng-emscripten` (eSpeak compiled to WASM with a
 * per-chunk callback). Synchronous by nature, which is why it lives in a worker.
 */

import type { SynthesisBackend } from '../synthesis-worker-runtime.js';
import type { WorkerVoice } from '../synthesis-worker-protocol.js';
import { CONTEXT_MARGIN_MS, type VoiceGender } from '../tts-engine.js';
import { ESPEAK_FEMALE_VARIANT, ESPEAK_SAMPLE_RATE_HZ, type EspeakRequest } from './espeak-request.js';

// The package ships no typings; these are the parts of its Emscripten/WebIDL binding we use.
interface EspeakVoiceStruct {
  ptr: number;
  get_identifier(): string;
  get_gender(): number;
}
interface EspeakWorkerInstance {
  list_voices(): { name: string; identifier: string; languages: { priority: number; name: string }[] }[];
  get_voices(index: number): EspeakVoiceStruct;
  set_voice(name: string): number;
  set_rate(wpm: number): number;
  set_pitch(pitch: number): number;
  synthesize(text: string, callback: (samples: Int16Array, events: EspeakEvent[]) => boolean | number): void;
}
/** An event eSpeak reports with a chunk (word, phoneme, SSML mark, ...); `audio_position` is in ms from the start. */
interface EspeakEvent {
  type: string;
  audio_position: number;
  id?: number | string;
}
interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorkerInstance;
}

/** Turns eSpeak's lower-case language codes into conventional BCP-47 casing (`en-us` -> `en-US`). */
export function canonicalLanguageCode(code: string): string {
  return code
    .split('-')
    .map((part, i) => {
      if (i === 0) return part.toLowerCase();
      if (part.length === 2) return part.toUpperCase();
      if (part.length === 4) return part[0]!.toUpperCase() + part.slice(1).toLowerCase();
      return part.toLowerCase();
    })
    .join('-');
}

/** Escapes text for eSpeak, whose binding always enables SSML: user text must never be read as markup. */
export function escapeForSsml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const GENDERS: Record<number, VoiceGender> = { 1: 'MALE', 2: 'FEMALE' };

/** SSML marks put where the text starts after its preceding context and where its continuation starts. */
const START_MARK = 'gatehouse-start';
const END_MARK = 'gatehouse-end';

/**
 * Synthesises `r.preceding`, `r.text` and `r.continuation` as one sentence and emits only the audio of `text`:
 * between SSML marks placed at its edges (eSpeak reports their positions), widened by `CONTEXT_MARGIN_MS` for the
 * cross-fade, so it starts and ends as it would mid-sentence. Stops eSpeak once the end mark is passed. The audio is held back until then, which is fine for
 * template pieces (short, bounded by `tts.maxTextChars`); an empty `emit` still checks for a cancel meanwhile. When
 * eSpeak reports no mark for an edge (it drops marks after a sentence end) the text is synthesised again without the
 * context on that side.
 */
function synthesizeInContext(espeak: EspeakWorkerInstance, r: EspeakRequest, emit: (samples: Int16Array) => boolean): void {
  const held: Int16Array[] = [];
  let heldSamples = 0;
  let startAt = 0;
  let startSeen = false;
  let endAt: number | undefined;
  let cancelled = false;
  const toSamples = (ms: number): number => Math.round((ms * ESPEAK_SAMPLE_RATE_HZ) / 1000);
  const margin = toSamples(CONTEXT_MARGIN_MS);
  const before = r.preceding ? `${escapeForSsml(r.preceding)} <mark name="${START_MARK}"/>` : '';
  const after = r.continuation ? ` <mark name="${END_MARK}"/>${escapeForSsml(r.continuation)}` : '';
  espeak.synthesize(`${before}${escapeForSsml(r.text)}${after}`, (samples, events) => {
    for (const e of events) {
      if (e.type !== 'mark') continue;
      if (e.id === START_MARK) {
        startAt = Math.max(0, toSamples(e.audio_position) - margin);
        startSeen = true;
      }
      if (e.id === END_MARK) endAt ??= toSamples(e.audio_position) + margin;
    }
    if (samples.length > 0) {
      held.push(samples.slice()); // eSpeak reuses its buffer
      heldSamples += samples.length;
    }
    cancelled = !emit(new Int16Array(0));
    return cancelled || (endAt !== undefined && heldSamples >= endAt);
  });
  if (cancelled) return;
  // A mark eSpeak did not report leaves that edge unknown: synthesise again without that side's context.
  if ((r.preceding && !startSeen) || (r.continuation && endAt === undefined)) {
    const { preceding, continuation, ...plain } = r;
    const retry: EspeakRequest = { ...plain, ...(startSeen ? { preceding } : {}), ...(endAt === undefined ? {} : { continuation }) };
    if (retry.preceding || retry.continuation) synthesizeInContext(espeak, retry, emit);
    else espeak.synthesize(escapeForSsml(r.text), (samples) => samples.length > 0 && !emit(samples));
    return;
  }
  const end = Math.min(endAt ?? heldSamples, heldSamples);
  let offset = 0;
  for (const chunk of held) {
    const length = chunk.length; // read first: emitting may transfer (detach) the chunk's buffer
    const from = Math.max(startAt, offset);
    const to = Math.min(end, offset + length);
    if (to > from && !emit(chunk.subarray(from - offset, to - offset))) return;
    offset += length;
    if (offset >= end) break;
  }
}

/**
 * Text synthesised at start-up. The WASM code runs several times slower until V8 has tiered it up (measured: about
 * 6 rounds of these paragraphs take a 9-second clip from 700 ms to 60 ms), so a worker is not "warm" until then.
 */
const WARM_UP: [string, string][] = [
  ['gmw/en-US', 'The quick brown fox jumps over the lazy dog. Please transfer one thousand dollars to Alice. '.repeat(2)],
  ['zle/ru', 'Съешь же ещё этих мягких французских булок, да выпей чаю. Итак, мы переводим тысячу рублей. '.repeat(2)],
];
/** Rounds of `WARM_UP`. */
const WARM_UP_ROUNDS = 4;

/** Loads eSpeak NG, lists its voices (each also as a female variant) and warms it up. */
export async function createEspeakBackend(): Promise<SynthesisBackend> {
  const { default: initialise } = await import('@echogarden/espeak-ng-emscripten');
  const module = (await initialise()) as EspeakModule;
  const espeak = new module.eSpeakNGWorker();
  const genders = new Map<string, VoiceGender>();
  for (let i = 0; ; i++) {
    const v = espeak.get_voices(i);
    if (!v.ptr) break;
    genders.set(v.get_identifier(), GENDERS[v.get_gender()] ?? 'NEUTRAL');
  }
  const voices: WorkerVoice[] = [];
  for (const v of espeak.list_voices()) {
    const name = v.identifier.split('/').pop()!;
    const languages = v.languages.map((l) => ({ code: canonicalLanguageCode(l.name), priority: l.priority })).sort((a, b) => a.priority - b.priority);
    voices.push({ id: v.identifier, name, languages, gender: genders.get(v.identifier) ?? 'MALE' });
    // eSpeak's voices are all male; its variants give each one a female counterpart.
    voices.push({ id: `${v.identifier}+${ESPEAK_FEMALE_VARIANT}`, name: `${name}+${ESPEAK_FEMALE_VARIANT}`, languages, gender: 'FEMALE' });
  }
  const known = new Set(voices.map((v) => v.id));
  let currentVoice = '';
  const synthesize = (request: unknown, emit: (samples: Int16Array) => boolean): void => {
    const r = request as EspeakRequest;
    if (!known.has(r.voiceId)) throw new Error(`unknown eSpeak voice ${r.voiceId}`);
    if (r.voiceId !== currentVoice) {
      const code = espeak.set_voice(r.voiceId);
      if (code !== 0) throw new Error(`eSpeak could not load voice ${r.voiceId} (code ${code})`);
      currentVoice = r.voiceId;
    }
    espeak.set_rate(Math.round(r.wordsPerMinute));
    espeak.set_pitch(Math.round(r.pitch));
    if (r.preceding || r.continuation) {
      synthesizeInContext(espeak, r, emit);
      return;
    }
    // The callback returns true to make eSpeak abort (its convention: non-zero stops synthesis).
    espeak.synthesize(escapeForSsml(r.text), (samples) => samples.length > 0 && !emit(samples));
  };
  for (let round = 0; round < WARM_UP_ROUNDS; round++) {
    for (const [voiceId, text] of WARM_UP) {
      synthesize({ voiceId, text, wordsPerMinute: 175, pitch: 50 } satisfies EspeakRequest, () => true);
    }
  }
  return { voices, sampleRateHz: ESPEAK_SAMPLE_RATE_HZ, synthesize };
}
