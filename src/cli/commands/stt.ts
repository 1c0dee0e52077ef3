import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { decodeAudio, type AudioEncodingName } from '../../audio/index.js';
import { grpcCallOptions, unaryReply } from '../../client/grpc-client.js';
import type { RecognitionConfig } from '../../generated/gatehouse/stt/v1/RecognitionConfig.js';
import type { SpeechToTextClient } from '../../generated/gatehouse/stt/v1/SpeechToText.js';
import type { Duration__Output } from '../../generated/google/protobuf/Duration.js';
import type { RecognizeResponse__Output } from '../../generated/gatehouse/stt/v1/RecognizeResponse.js';
import type { SpeechRecognitionAlternative__Output } from '../../generated/gatehouse/stt/v1/SpeechRecognitionAlternative.js';
import type { StreamingRecognizeResponse__Output } from '../../generated/gatehouse/stt/v1/StreamingRecognizeResponse.js';
import { CLIENT_FLAGS_USAGE, clientSettings, connect, parseClientArgs, type ClientSettings } from '../client-options.js';
import { UsageError, type CliCommand } from '../command.js';
import { printCallError, printReply } from '../output.js';

const SERVICE = 'gatehouse.stt.v1.SpeechToText';

const USAGE = `gatehouse stt <recognize|stream> FILE [flags]

  recognize FILE        sends the whole file in one Recognize call and prints the transcript
  stream FILE           sends the file over StreamingRecognize in chunks and prints interim results as they
                        change and a final line per utterance

Audio flags (the extension picks the encoding: .wav LINEAR16 in WAV, .raw/.pcm LINEAR16, .ulaw/.mulaw MULAW,
.alaw ALAW, .opus/.ogg OGG_OPUS):
  --encoding ENC        linear16, mulaw, alaw or ogg-opus (overrides the extension)
  --sample-rate HZ      rate of headerless audio (default 16000 for LINEAR16, 8000 for MULAW/ALAW)
  --alternatives N      up to N hypotheses per utterance, 1 to 10 (default 1)
  --words               print each word with its start and end time
  --grammar FILE        constrain recognition to a JSGF grammar
  --phrase TEXT         a phrase hint (repeatable); every word must be in the dictionary

Stream flags:
  --realtime            send at real-time pace (as a microphone would) instead of as fast as possible
  --chunk-ms MS         audio per message, 20 to 1000 (default 100)
  --single-utterance    stop after the first utterance
  --no-interim          final results only

${CLIENT_FLAGS_USAGE}`;

const ENCODINGS: Record<string, AudioEncodingName> = {
  linear16: 'LINEAR16',
  mulaw: 'MULAW',
  ulaw: 'MULAW',
  alaw: 'ALAW',
  'ogg-opus': 'OGG_OPUS',
  opus: 'OGG_OPUS',
};
const BY_EXTENSION: Record<string, AudioEncodingName> = {
  '.wav': 'LINEAR16',
  '.raw': 'LINEAR16',
  '.pcm': 'LINEAR16',
  '.ulaw': 'MULAW',
  '.mulaw': 'MULAW',
  '.alaw': 'ALAW',
  '.opus': 'OGG_OPUS',
  '.ogg': 'OGG_OPUS',
};

type Values = Record<string, string | boolean | string[] | undefined>;

/** What the command sends, worked out from the file and flags. */
interface AudioPlan {
  bytes: Buffer;
  config: RecognitionConfig;
  /** Encoded bytes per second of audio, for pacing and chunking. */
  bytesPerSecond: number;
  /** LINEAR16 chunks must hold whole samples. */
  evenChunks: boolean;
}

/** `gatehouse stt ...`: the SpeechToText client. */
export const sttCommand: CliCommand = {
  name: 'stt',
  summary: 'recognise speech in an audio file, whole or streamed',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values, positionals } = parseClientArgs(rest, {
      encoding: { type: 'string' },
      'sample-rate': { type: 'string' },
      alternatives: { type: 'string' },
      words: { type: 'boolean', default: false },
      grammar: { type: 'string' },
      phrase: { type: 'string', multiple: true },
      realtime: { type: 'boolean', default: false },
      'chunk-ms': { type: 'string', default: '100' },
      'single-utterance': { type: 'boolean', default: false },
      'no-interim': { type: 'boolean', default: false },
    });
    if (values.help || !sub) throw new UsageError(sub ? '' : 'which stt command? recognize or stream');
    if (sub !== 'recognize' && sub !== 'stream') throw new UsageError(`unknown stt command "${sub}"`);
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError(`stt ${sub} needs exactly one audio FILE, e.g. gatehouse stt ${sub} speech.wav`);
    const plan = await planAudio(file, values);
    const settings = clientSettings(values);
    const client = connect(SERVICE, settings);
    try {
      return sub === 'recognize' ? await recognize(client, settings, plan, values) : await stream(client, settings, plan, values);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      return printCallError(error, settings.json);
    } finally {
      client.close();
    }
  },
};

async function planAudio(file: string, values: Values): Promise<AudioPlan> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const flag = values.encoding as string | undefined;
  const encoding = flag ? ENCODINGS[flag.toLowerCase()] : BY_EXTENSION[extname(file).toLowerCase()];
  if (!encoding) {
    throw new UsageError(
      flag
        ? `--encoding ${flag} is not one of linear16, mulaw, alaw, ogg-opus`
        : `cannot tell the encoding of ${file} from its extension; pass --encoding`,
    );
  }
  const isWav = bytes.subarray(0, 4).toString('latin1') === 'RIFF';
  const rateFlag = values['sample-rate'] as string | undefined;
  const sampleRateHertz = rateFlag !== undefined ? Number(rateFlag) : isWav || encoding === 'OGG_OPUS' ? 0 : encoding === 'LINEAR16' ? 16000 : 8000;
  if (!Number.isInteger(sampleRateHertz) || sampleRateHertz < 0) throw new UsageError(`--sample-rate ${rateFlag} is not a sample rate in Hz`);
  const alternatives = values.alternatives === undefined ? 1 : Number(values.alternatives);
  if (!Number.isInteger(alternatives) || alternatives < 1 || alternatives > 10)
    throw new UsageError(`--alternatives ${String(values.alternatives)} must be 1 to 10`);
  let grammarJsgf = '';
  if (values.grammar) {
    try {
      grammarJsgf = readFileSync(String(values.grammar), 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --grammar ${String(values.grammar)}: ${(error as Error).message}`);
    }
  }
  // Decoding locally only to learn the duration (for pacing); the server does its own decoding and checks.
  let seconds = 0;
  try {
    const decoded = await decodeAudio(bytes, encoding, sampleRateHertz);
    seconds = decoded.samples.length / decoded.sampleRateHz;
  } catch {
    seconds = 0; // let the server say what is wrong with it
  }
  const bytesPerSecond = seconds > 0 ? bytes.length / seconds : encoding === 'LINEAR16' ? 32000 : 16000;
  return {
    bytes,
    bytesPerSecond,
    evenChunks: encoding === 'LINEAR16',
    config: {
      encoding,
      sampleRateHertz,
      maxAlternatives: alternatives,
      enableWordTimeOffsets: Boolean(values.words),
      speechContexts: Array.isArray(values.phrase) ? [{ phrases: values.phrase }] : [],
      grammarJsgf,
    },
  };
}

const seconds = (d: Duration__Output | null | undefined): string => (d ? (Number(d.seconds) + d.nanos / 1e9).toFixed(2) : '?');

function describeAlternatives(alternatives: SpeechRecognitionAlternative__Output[], words: boolean): string[] {
  const lines: string[] = [];
  alternatives.forEach((a, i) => {
    const conf = i === 0 ? ` (confidence ${a.confidence.toFixed(2)})` : '';
    lines.push(`${i === 0 ? '' : `  alt ${i}: `}${a.transcript || '(nothing recognised)'}${conf}`);
    if (words && i === 0)
      for (const w of a.words)
        lines.push(`    ${seconds(w.startTime).padStart(7)} ${seconds(w.endTime).padStart(7)}  ${w.word}  ${w.confidence.toFixed(2)}`);
  });
  return lines;
}

async function recognize(client: SpeechToTextClient, settings: ClientSettings, plan: AudioPlan, values: Values): Promise<number> {
  const request = { config: plan.config, audio: { content: plan.bytes } };
  const options = grpcCallOptions({ deadline: settings.timeoutMs });
  const reply = await unaryReply<RecognizeResponse__Output>((done) => client.recognize(request, settings.metadata, options, done));
  printReply(reply, settings.json, (r: RecognizeResponse__Output) => {
    if (r.results.length === 0) return `(no speech in ${seconds(r.totalAudioTime)} s of audio)`;
    return r.results.flatMap((res) => describeAlternatives(res.alternatives, Boolean(values.words))).join('\n');
  });
  return 0;
}

async function stream(client: SpeechToTextClient, settings: ClientSettings, plan: AudioPlan, values: Values): Promise<number> {
  const chunkMs = Number(values['chunk-ms']);
  if (!Number.isFinite(chunkMs) || chunkMs < 20 || chunkMs > 1000)
    throw new UsageError(`--chunk-ms ${String(values['chunk-ms'])} must be 20 to 1000`);
  let chunkBytes = Math.max(1, Math.round((plan.bytesPerSecond * chunkMs) / 1000));
  if (plan.evenChunks && chunkBytes % 2 === 1) chunkBytes += 1;
  const realtime = Boolean(values.realtime);
  // A deadline fit for the pace: real time plus the usual allowance.
  const deadline = settings.timeoutMs + (realtime ? Math.ceil((plan.bytes.length / plan.bytesPerSecond) * 1000) : 0);
  const call = client.streamingRecognize(settings.metadata, grpcCallOptions({ deadline }));
  const tty = process.stdout.isTTY && !settings.json;
  let interimShown = false;
  const clearInterim = (): void => {
    if (tty && interimShown) process.stdout.write('\r\x1b[K');
    interimShown = false;
  };
  const reading = (async () => {
    for await (const r of call as AsyncIterable<StreamingRecognizeResponse__Output>) {
      if (settings.json) {
        printReply(r, true, () => '');
        continue;
      }
      if (r.speechEventType === 'END_OF_SINGLE_UTTERANCE') {
        clearInterim();
        process.stdout.write('(end of single utterance)\n');
      }
      for (const res of r.results) {
        if (res.isFinal) {
          clearInterim();
          const lines = describeAlternatives(res.alternatives, Boolean(values.words));
          process.stdout.write(`[final @${seconds(res.resultEndTime)}s] ${lines.join('\n')}\n`);
        } else {
          const text = res.alternatives[0]?.transcript ?? '';
          if (tty) {
            process.stdout.write(`\r\x1b[K… ${text}`);
            interimShown = true;
          } else {
            process.stdout.write(`[interim @${seconds(res.resultEndTime)}s, stability ${res.stability.toFixed(2)}] ${text}\n`);
          }
        }
      }
    }
    clearInterim();
  })();
  const writing = (async () => {
    const t0 = performance.now();
    call.write({
      streamingConfig: { config: plan.config, interimResults: !values['no-interim'], singleUtterance: Boolean(values['single-utterance']) },
    });
    for (let off = 0; off < plan.bytes.length; off += chunkBytes) {
      if (call.destroyed || call.writableEnded) return;
      if (realtime) {
        // This chunk ends (off + chunkBytes) bytes into the file: send it once that much audio time has passed.
        const due = ((off + chunkBytes) / plan.bytesPerSecond) * 1000 - (performance.now() - t0);
        if (due > 0) await new Promise((r) => setTimeout(r, due));
      }
      if (!call.write({ audioContent: plan.bytes.subarray(off, off + chunkBytes) })) await new Promise((r) => call.once('drain', r));
    }
    call.end();
  })();
  await Promise.all([reading, writing.catch(() => undefined)]);
  return 0;
}
