import { closeSync, openSync, writeSync, fstatSync } from 'node:fs';
import { extname } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { grpcCallOptions, unaryReply } from '../../client/grpc-client.js';
import type { AudioContainer__Output } from '../../generated/gatehouse/tts/v1/AudioContainer.js';
import type { AudioEncoding__Output } from '../../generated/gatehouse/tts/v1/AudioEncoding.js';
import type { AudioInfo__Output } from '../../generated/gatehouse/tts/v1/AudioInfo.js';
import type { ListVoicesResponse__Output } from '../../generated/gatehouse/tts/v1/ListVoicesResponse.js';
import { SsmlVoiceGender, type SsmlVoiceGender__Output } from '../../generated/gatehouse/tts/v1/SsmlVoiceGender.js';
import type { StreamingSynthesizeResponse__Output } from '../../generated/gatehouse/tts/v1/StreamingSynthesizeResponse.js';
import type { SynthesisInput } from '../../generated/gatehouse/tts/v1/SynthesisInput.js';
import type { SynthesizeRequest } from '../../generated/gatehouse/tts/v1/SynthesizeRequest.js';
import type { SynthesizeResponse__Output } from '../../generated/gatehouse/tts/v1/SynthesizeResponse.js';
import type { TextToSpeechClient } from '../../generated/gatehouse/tts/v1/TextToSpeech.js';
import { CLIENT_FLAGS_USAGE, clientSettings, connect, parseClientArgs, type ClientSettings } from '../client-options.js';
import { UsageError, type CliCommand } from '../command.js';
import { printCallError, printReply } from '../output.js';

const SERVICE = 'gatehouse.tts.v1.TextToSpeech';

const USAGE = `gatehouse tts <voices|say|template> [flags]

  voices [--language CODE]            lists voices (all, or those speaking CODE: en, en-US, ru)
  say "TEXT" [audio flags]            synthesises TEXT
  template "TEMPLATE" --slot NAME=VALUE ... [--backup PHRASE] [audio flags]
                                      splices a template such as "Итак, мы переводим {sum} {name}":
                                      fixed text comes from the server's cache, only slots are synthesised

Audio flags:
  -o, --output FILE     where to write the audio; "-" for stdout. The extension picks the format:
                        .wav (LINEAR16 in WAV), .opus/.ogg (OGG_OPUS), .raw/.pcm (LINEAR16), .ulaw, .alaw
  --voice NAME          voice name from "tts voices" (e.g. ru, en-US, en-US+f3, kal16); a language code also works
  --language CODE       pick the best voice for this language instead of naming one (neither: from the text's script)
  --gender male|female  preferred gender when choosing by language
  --encoding ENC        linear16, mulaw, alaw or ogg-opus (overrides the extension)
  --sample-rate HZ      8000, 16000, 22050, 24000 or 48000 (default: the voice's own; 48000 for Opus)
  --speed X             speaking rate, 0.25 to 4 (default 1)
  --pitch SEMITONES     -20 to 20 (default 0)
  --gain DB             volume gain, -96 to 16 (default 0)
  --stream              use StreamingSynthesize: audio is written as it arrives, with progress on stderr

${CLIENT_FLAGS_USAGE}`;

type Encoding = Exclude<AudioEncoding__Output, 'AUDIO_ENCODING_UNSPECIFIED'>;
type Container = Exclude<AudioContainer__Output, 'AUDIO_CONTAINER_UNSPECIFIED'>;

const ENCODINGS: Record<string, Encoding> = {
  linear16: 'LINEAR16',
  mulaw: 'MULAW',
  ulaw: 'MULAW',
  alaw: 'ALAW',
  'ogg-opus': 'OGG_OPUS',
  opus: 'OGG_OPUS',
};
const BY_EXTENSION: Record<string, { encoding: Encoding; container: Container }> = {
  '.wav': { encoding: 'LINEAR16', container: 'WAV' },
  '.opus': { encoding: 'OGG_OPUS', container: 'RAW' },
  '.ogg': { encoding: 'OGG_OPUS', container: 'RAW' },
  '.raw': { encoding: 'LINEAR16', container: 'RAW' },
  '.pcm': { encoding: 'LINEAR16', container: 'RAW' },
  '.ulaw': { encoding: 'MULAW', container: 'RAW' },
  '.alaw': { encoding: 'ALAW', container: 'RAW' },
};

type Values = Record<string, string | boolean | string[] | undefined>;

/** `gatehouse tts ...`: the TextToSpeech client. */
export const ttsCommand: CliCommand = {
  name: 'tts',
  summary: 'list voices, synthesise text, splice templates',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values, positionals } = parseClientArgs(rest, {
      language: { type: 'string' },
      output: { type: 'string', short: 'o' },
      voice: { type: 'string' },
      gender: { type: 'string' },
      encoding: { type: 'string' },
      'sample-rate': { type: 'string' },
      speed: { type: 'string' },
      pitch: { type: 'string' },
      gain: { type: 'string' },
      stream: { type: 'boolean', default: false },
      slot: { type: 'string', multiple: true },
      backup: { type: 'string' },
    });
    if (values.help || !sub) throw new UsageError(sub ? '' : 'which tts command? voices, say or template');
    const settings = clientSettings(values);
    const client = connect(SERVICE, settings);
    try {
      switch (sub) {
        case 'voices': {
          const request = { languageCode: values.language ?? '' };
          const reply = await unaryReply<ListVoicesResponse__Output>((done) =>
            client.listVoices(request, settings.metadata, callOptions(settings), done),
          );
          printReply(
            reply,
            settings.json,
            (r: ListVoicesResponse__Output) =>
              (r.voices ?? [])
                .map(
                  (v) =>
                    `${String(v.name).padEnd(28)} ${String(v.ssmlGender).padEnd(7)} ${String(v.naturalSampleRateHertz).padStart(5)} Hz  ${String(v.engine).padEnd(9)} ${(v.languageCodes ?? []).join(', ')}`,
                )
                .join('\n') + `\n(${r.voices?.length ?? 0} voices)`,
          );
          return 0;
        }
        case 'say':
        case 'template': {
          const input = sub === 'say' ? sayInput(positionals) : templateInput(positionals, values);
          return await synthesize(client, settings, input, values);
        }
        default:
          throw new UsageError(`unknown tts command "${sub}"`);
      }
    } catch (error) {
      if (error instanceof UsageError) throw error;
      return printCallError(error, settings.json);
    } finally {
      client.close();
    }
  },
};

function callOptions(settings: ClientSettings): grpc.CallOptions {
  return grpcCallOptions({ deadline: settings.timeoutMs });
}

function sayInput(positionals: string[]): SynthesisInput {
  const text = positionals.join(' ');
  if (!text.trim()) throw new UsageError('tts say needs the TEXT to speak, e.g. gatehouse tts say "Hello" -o hello.wav');
  return { text };
}

function templateInput(positionals: string[], values: Values): SynthesisInput {
  const template = positionals.join(' ');
  if (!template.trim())
    throw new UsageError('tts template needs a TEMPLATE, e.g. gatehouse tts template "Hello {name}" --slot name=Alice -o out.wav');
  const slots: Record<string, string> = {};
  for (const pair of (values.slot as string[] | undefined) ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--slot ${pair} must be NAME=VALUE, e.g. --slot sum=1000`);
    slots[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { templateInput: { template, slots, backupPhrase: (values.backup as string | undefined) ?? '' } };
}

function number(values: Values, flag: string): number | undefined {
  const raw = values[flag] as string | undefined;
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new UsageError(`--${flag} ${raw} is not a number`);
  return n;
}

/** Builds the request, calls Synthesize or StreamingSynthesize, and writes the audio. */
async function synthesize(client: TextToSpeechClient, settings: ClientSettings, input: SynthesisInput, values: Values): Promise<number> {
  const output = values.output as string | undefined;
  if (output === undefined) throw new UsageError('where should the audio go? Pass -o FILE (.wav, .opus, .raw, .ulaw, .alaw) or -o - for stdout');
  if (output === '-' && process.stdout.isTTY) throw new UsageError('refusing to write audio to a terminal; redirect stdout or use -o FILE');
  const byExtension = BY_EXTENSION[extname(output).toLowerCase()] ?? { encoding: 'LINEAR16', container: 'RAW' as const };
  let encoding = byExtension.encoding;
  if (values.encoding !== undefined) {
    const named = ENCODINGS[String(values.encoding).toLowerCase()];
    if (named === undefined) throw new UsageError(`--encoding ${String(values.encoding)} is not one of linear16, mulaw, alaw, ogg-opus`);
    encoding = named;
  }
  const gender = values.gender === undefined ? undefined : genderOf(String(values.gender));
  const request = {
    input,
    voice: { name: (values.voice as string | undefined) ?? '', languageCode: (values.language as string | undefined) ?? '', ssmlGender: gender },
    audioConfig: {
      audioEncoding: encoding,
      container: encoding === 'OGG_OPUS' ? 'RAW' : byExtension.container,
      sampleRateHertz: number(values, 'sample-rate') ?? 0,
      speakingRate: number(values, 'speed') ?? 0,
      pitch: number(values, 'pitch') ?? 0,
      volumeGainDb: number(values, 'gain') ?? 0,
    },
  };
  const run = values.stream ? streamTo : unaryTo;
  const voice = request.voice;
  try {
    return await run(client, settings, request, output);
  } catch (error) {
    // "--voice en-GB" is a language, not a voice name: ask again by language.
    const e = error as Partial<grpc.ServiceError>;
    if (e.code === Status.NOT_FOUND && voice.name && /^[a-z]{2,3}(-[A-Za-z0-9]+)*$/i.test(voice.name) && !voice.languageCode) {
      return await run(client, settings, { ...request, voice: { ...voice, name: '', languageCode: voice.name } }, output);
    }
    throw error;
  }
}

function describe(info: AudioInfo__Output | null | undefined, bytes: number, seconds: number | undefined): string {
  const container = info?.container === 'WAV' ? ' in WAV' : '';
  return `${seconds === undefined ? '' : `${seconds.toFixed(2)} s, `}${String(info?.audioEncoding)}${container} ${info?.sampleRateHertz} Hz, voice ${info?.voiceName}${info?.languageCode ? ` speaking ${info.languageCode}` : ''} (${(bytes / 1024).toFixed(1)} KiB)`;
}

async function unaryTo(client: TextToSpeechClient, settings: ClientSettings, request: SynthesizeRequest, output: string): Promise<number> {
  const reply = await unaryReply<SynthesizeResponse__Output>((done) => client.synthesize(request, settings.metadata, callOptions(settings), done));
  const audio = reply.audioContent as Buffer;
  const fd = output === '-' ? 1 : openSync(output, 'w');
  try {
    writeSync(fd, audio);
  } finally {
    if (fd !== 1) closeSync(fd);
  }
  const seconds = Number(reply.audioInfo?.durationSeconds ?? 0);
  if (settings.json) process.stderr.write(JSON.stringify({ output, bytes: audio.length, audioInfo: reply.audioInfo }) + '\n');
  else process.stderr.write(`wrote ${output === '-' ? 'stdout' : output}: ${describe(reply.audioInfo, audio.length, seconds)}\n`);
  return 0;
}

async function streamTo(client: TextToSpeechClient, settings: ClientSettings, request: SynthesizeRequest, output: string): Promise<number> {
  const started = performance.now();
  const stream = client.streamingSynthesize(request, settings.metadata, callOptions(settings));
  process.once('SIGINT', () => stream.cancel());
  const fd = output === '-' ? 1 : openSync(output, 'w');
  let info: AudioInfo__Output | null | undefined;
  let bytes = 0;
  let chunks = 0;
  let firstMs = 0;
  const progress = process.stderr.isTTY && !settings.json;
  try {
    for await (const message of stream as AsyncIterable<StreamingSynthesizeResponse__Output>) {
      const chunk = message.audioChunk as Buffer;
      if (chunks === 0) firstMs = performance.now() - started;
      info ??= message.audioInfo;
      writeSync(fd, chunk);
      bytes += chunk.length;
      chunks++;
      if (progress) process.stderr.write(`\r${chunks} chunks, ${(bytes / 1024).toFixed(1)} KiB, first after ${firstMs.toFixed(0)} ms`);
    }
    if (fd !== 1 && info?.container === 'WAV') fixWavSizes(fd);
  } finally {
    if (fd !== 1) closeSync(fd);
  }
  const totalMs = performance.now() - started;
  const seconds = estimateSeconds(info, bytes);
  if (settings.json) {
    process.stderr.write(
      JSON.stringify({ output, bytes, chunks, firstChunkMs: Math.round(firstMs), totalMs: Math.round(totalMs), audioInfo: info }) + '\n',
    );
  } else {
    if (progress) process.stderr.write('\n');
    process.stderr.write(
      `wrote ${output === '-' ? 'stdout' : output}: ${describe(info, bytes, seconds)}; ${chunks} chunks, first after ${firstMs.toFixed(0)} ms, done in ${totalMs.toFixed(0)} ms\n`,
    );
  }
  return 0;
}

/** A streamed WAV has "unknown" sizes; once the file is complete, write the real ones. */
function fixWavSizes(fd: number): void {
  const size = fstatSync(fd).size;
  if (size < 44) return;
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  writeSync(fd, u32(size - 8), 0, 4, 4);
  writeSync(fd, u32(size - 44), 0, 4, 40);
}

/** Duration of streamed audio from its size, for the summary line (Opus: unknown without decoding, so 0). */
/** Length of streamed audio from its byte count; undefined for Opus, whose bytes do not say. */
function estimateSeconds(info: AudioInfo__Output | null | undefined, bytes: number): number | undefined {
  const rate = Number(info?.sampleRateHertz ?? 0);
  if (!rate) return undefined;
  const header = info?.container === 'WAV' ? 44 : 0;
  switch (info?.audioEncoding) {
    case 'LINEAR16':
      return (bytes - header) / 2 / rate;
    case 'MULAW':
    case 'ALAW':
      return (bytes - header) / rate;
    default:
      return undefined;
  }
}

/** `--gender`, checked against the proto's enum (UNSPECIFIED is what leaving the flag out means). */
function genderOf(flag: string): SsmlVoiceGender__Output {
  const name = flag.toUpperCase();
  const known = Object.values(SsmlVoiceGender).filter((g) => g !== SsmlVoiceGender.SSML_VOICE_GENDER_UNSPECIFIED);
  const gender = known.find((g) => g === name);
  if (gender === undefined) {
    const names = known.map((g) => g.toLowerCase());
    throw new UsageError(`--gender must be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`);
  }
  return gender;
}
