/**
 * Validation of a SynthesizeRequest into a plan the service can execute. Every check here produces
 * INVALID_ARGUMENT (or NOT_FOUND for voices) with a message that says what to change.
 */

import { invalidField } from '../../errors.js';
import type { SynthesizeRequest__Output } from '../../generated/gatehouse/tts/v1/SynthesizeRequest.js';
import type { AudioEncodingName } from '../../audio/decode-audio.js';
import type { VoiceGender } from '../../engines/tts-engine.js';
import { normalizerFor } from '../../text-normalization/index.js';
import { languageForText } from './script-language.js';
import { parseTemplate, planTemplate, type TemplatePlanPiece } from './template.js';
import type { CatalogVoice, VoiceCatalog } from './voice-catalog.js';

/** Output sample rates the API offers, in Hz. */
export const SUPPORTED_SAMPLE_RATES_HZ: readonly number[] = [8000, 16000, 22050, 24000, 48000];

/** Everything needed to produce the audio for one request. */
export interface SynthesisPlan {
  /** Plain text, or template pieces (fixed ones cached, dynamic ones synthesised per call). */
  input: { kind: 'text'; text: string } | { kind: 'template'; pieces: TemplatePlanPiece[] };
  voice: CatalogVoice;
  encoding: AudioEncodingName;
  /** Wrap the audio in a WAV (RIFF) header. */
  wav: boolean;
  /** Output rate in Hz. */
  sampleRateHz: number;
  /** 1 = normal. */
  speakingRate: number;
  /** Semitones. */
  pitchSemitones: number;
  /** Applied after synthesis, in dB. */
  volumeGainDb: number;
  /** Language spoken: the requested one, the one chosen from the text's script, or the named voice's first. */
  languageCode: string;
}

/** Limits the plan is checked against. */
export interface PlanLimits {
  /** Longest text (template with slots filled) in characters. */
  maxTextChars: number;
  /** Language when the request gives neither voice name nor language. */
  defaultLanguageCode: string;
}

// Maps, not object literals: the keys come from requests, and "constructor" must not find Object.prototype's.
const ENCODINGS = new Map<string, AudioEncodingName>([
  ['AUDIO_ENCODING_UNSPECIFIED', 'LINEAR16'],
  ['LINEAR16', 'LINEAR16'],
  ['MULAW', 'MULAW'],
  ['ALAW', 'ALAW'],
  ['OGG_OPUS', 'OGG_OPUS'],
]);

const GENDERS = new Map<string, VoiceGender | undefined>([
  ['SSML_VOICE_GENDER_UNSPECIFIED', undefined],
  ['MALE', 'MALE'],
  ['FEMALE', 'FEMALE'],
  ['NEUTRAL', 'NEUTRAL'],
]);

function checkRange(field: string, value: number, min: number, max: number, unit: string): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw invalidField(field, `must be between ${min} and ${max}${unit}, got ${value}`);
  }
}

/** Control and format (zero-width) characters: nothing an engine can speak. */
const UNSPEAKABLE = /[\p{Cc}\p{Cf}\p{Z}\s]/gu;

/** Whether `text` has anything to speak once whitespace, control and zero-width characters are set aside. */
export function isSpeakable(text: string): boolean {
  return text.replace(UNSPEAKABLE, '').length > 0;
}

/** Text for an engine: control characters become spaces and zero-width (format) characters go. */
export function cleanForEngine(text: string): string {
  return text
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\p{Cf}/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Characters as a person counts them (code points), not UTF-16 units. */
function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Validates `request` and resolves its voice; throws GatehouseError (INVALID_ARGUMENT or NOT_FOUND). */
export function planSynthesis(request: SynthesizeRequest__Output, catalog: VoiceCatalog, limits: PlanLimits): SynthesisPlan {
  const audio = request.audioConfig;
  const encodingName = String(audio?.audioEncoding ?? 'AUDIO_ENCODING_UNSPECIFIED');
  const encoding = ENCODINGS.get(encodingName);
  if (!encoding) {
    throw invalidField('audio_config.audio_encoding', `${encodingName} is not supported; use LINEAR16, MULAW, ALAW or OGG_OPUS`);
  }
  const container = String(audio?.container ?? 'AUDIO_CONTAINER_UNSPECIFIED');
  if (!['AUDIO_CONTAINER_UNSPECIFIED', 'RAW', 'WAV'].includes(container)) {
    throw invalidField('audio_config.container', `${container} is not supported; use RAW or WAV`);
  }
  const wav = container === 'WAV';
  if (wav && encoding === 'OGG_OPUS') {
    throw invalidField('audio_config.container', 'WAV cannot hold OGG_OPUS audio (an Ogg file is its own container); use RAW or leave it unset');
  }
  // 0 (unset) means normal speed; NaN is not unset and must fail the range check below.
  const speakingRate = audio?.speakingRate === 0 || audio?.speakingRate === undefined ? 1 : audio.speakingRate;
  checkRange('audio_config.speaking_rate', speakingRate, 0.25, 4, '');
  const pitchSemitones = audio?.pitch ?? 0;
  checkRange('audio_config.pitch', pitchSemitones, -20, 20, ' semitones');
  const volumeGainDb = audio?.volumeGainDb ?? 0;
  checkRange('audio_config.volume_gain_db', volumeGainDb, -96, 16, ' dB');
  const requestedRate = audio?.sampleRateHertz ?? 0;
  if (requestedRate !== 0 && !SUPPORTED_SAMPLE_RATES_HZ.includes(requestedRate)) {
    throw invalidField('audio_config.sample_rate_hertz', `must be one of ${SUPPORTED_SAMPLE_RATES_HZ.join(', ')}, got ${requestedRate}`);
  }

  const input = planInput(request, limits.maxTextChars);

  const genderName = String(request.voice?.ssmlGender ?? 'SSML_VOICE_GENDER_UNSPECIFIED');
  if (!GENDERS.has(genderName)) throw invalidField('voice.ssml_gender', `${genderName} is not a known gender; use MALE, FEMALE or NEUTRAL`);
  const name = request.voice?.name?.trim() ?? '';
  const requestedLanguage = request.voice?.languageCode?.trim() ?? '';
  // Neither voice nor language: speak the text in the language of its script (Cyrillic in Russian, not spelled in English).
  const languageCode =
    requestedLanguage ||
    (name ? limits.defaultLanguageCode : languageForText(spokenText(input), limits.defaultLanguageCode, (c) => catalog.speaks(c)));
  const voice = catalog.select(name, languageCode, GENDERS.get(genderName));

  const sampleRateHz = requestedRate || (encoding === 'OGG_OPUS' ? 48000 : voice.naturalSampleRateHz);
  const spoken = name ? (voice.languages[0]?.code ?? '') : languageCode;
  return {
    input: normalizeInput(input, spoken),
    voice,
    encoding,
    wav,
    sampleRateHz,
    speakingRate,
    pitchSemitones,
    volumeGainDb,
    languageCode: spoken,
  };
}

/** Numbers, dates, units and abbreviations written out as spoken in `languageCode` (src/text-normalization/). */
function normalizeInput(input: SynthesisPlan['input'], languageCode: string): SynthesisPlan['input'] {
  const normalize = normalizerFor(languageCode);
  if (!normalize) return input;
  if (input.kind === 'text') return { kind: 'text', text: normalize(input.text) };
  // Each piece is normalised after the text before it, so "переводим {sum}" says "тысячу", as the whole sentence
  // would; a paragraph separator (whitespace to the rules, never in a piece) marks where the piece starts.
  return {
    kind: 'template',
    pieces: input.pieces.map((p, i) => {
      const before = input.pieces[i - 1]?.text;
      if (before === undefined) return { ...p, text: normalize(p.text) };
      const both = normalize(`${before}\u2029${p.text}`);
      const at = both.lastIndexOf('\u2029');
      return { ...p, text: at >= 0 ? both.slice(at + 1).trim() : normalize(p.text) };
    }),
  };
}

/** All the text a plan speaks, in order. */
function spokenText(input: SynthesisPlan['input']): string {
  return input.kind === 'text' ? input.text : input.pieces.map((p) => p.text).join(' ');
}

function planInput(request: SynthesizeRequest__Output, maxTextChars: number): SynthesisPlan['input'] {
  const source = request.input;
  const which = source?.inputSource;
  if (!source || !which) {
    throw invalidField('input', 'is required: set input.text, or input.template_input for template splicing');
  }
  if (which === 'text') {
    const text = source.text ?? '';
    if (!text.trim()) throw invalidField('input.text', 'is empty; give the text to speak');
    if (!isSpeakable(text)) throw invalidField('input.text', 'has only whitespace, control or zero-width characters; give the text to speak');
    const length = charCount(text);
    if (length > maxTextChars) {
      throw invalidField('input.text', `is ${length} characters long; the limit is ${maxTextChars}. Split the text into several requests`);
    }
    return { kind: 'text', text: cleanForEngine(text) };
  }
  const t = source.templateInput;
  const template = t?.template ?? '';
  if (!template.trim()) throw invalidField('input.template_input.template', 'is empty; give a template such as "Hello {name}"');
  const parts = parseTemplate(template);
  const pieces = planTemplate(parts, t?.slots ?? {}, t?.backupPhrase ?? '')
    .map((p) => ({ ...p, text: cleanForEngine(p.text) }))
    .filter((p) => isSpeakable(p.text));
  if (pieces.length === 0) {
    throw invalidField('input.template_input', 'has nothing to say once slots are filled (only whitespace, control or zero-width characters)');
  }
  const length = pieces.reduce((n, p) => n + charCount(p.text), 0);
  if (length > maxTextChars) {
    throw invalidField('input.template_input', `is ${length} characters long with its slots filled; the limit is ${maxTextChars}`);
  }
  return { kind: 'template', pieces };
}
