/**
 * gatehouse.tts.v1.TextToSpeech: voices from eSpeak NG (and Flite), whole-clip and streaming synthesis in four
 * encodings at five rates, and template splicing with cached fixed fragments.
 */

import type { Registry } from 'prom-client';
import { GatehouseError, internal, unavailable } from '../../errors.js';
import type { ListVoicesRequest__Output } from '../../generated/gatehouse/tts/v1/ListVoicesRequest.js';
import type { ListVoicesResponse } from '../../generated/gatehouse/tts/v1/ListVoicesResponse.js';
import type { StreamingSynthesizeResponse } from '../../generated/gatehouse/tts/v1/StreamingSynthesizeResponse.js';
import type { SynthesizeRequest__Output } from '../../generated/gatehouse/tts/v1/SynthesizeRequest.js';
import type { SynthesizeResponse } from '../../generated/gatehouse/tts/v1/SynthesizeResponse.js';
import type { AudioInfo } from '../../generated/gatehouse/tts/v1/AudioInfo.js';
import type { TextToSpeechHandlers } from '../../generated/gatehouse/tts/v1/TextToSpeech.js';
import { serverStream, unary, type Send } from '../../handler.js';
import type { Logger } from '../../logging/logger.js';
import { loadServiceDefinition } from '../../proto/load.js';
import { createEspeakEngine } from '../../engines/espeak/espeak-engine.js';
import { createFliteEngine } from '../../engines/flite/flite-engine.js';
import { WorkerPoolError, workerPoolErrorToStatus } from '../../engines/worker-pool/index.js';
import { workerPoolConfig } from '../../config/worker-pool-schema.js';
import { CONTEXT_MARGIN_MS, type SynthesisRequest, type TtsEngine } from '../../engines/tts-engine.js';
import { concatPcm16 } from '../../audio/pcm.js';
import type { HostedService } from '../hosted-service.js';
import { createOutputStream, encodeClip } from './audio-output.js';
import { FragmentCache } from './fragment-cache.js';
import { joinContext, joinPauseMs, type JoinContext } from './join-context.js';
import { analysePiece, splicePieces, type PieceAnalysis, type PlacedPiece } from './splice.js';
import { planSynthesis, type SynthesisPlan } from './synthesis-plan.js';
import type { TtsConfig } from './tts-config.js';
import { createTtsMetrics, type TtsMetrics } from './tts-metrics.js';
import { VoiceCatalog, type CatalogVoice } from './voice-catalog.js';

/** Fully-qualified name of the service. */
export const TTS_SERVICE_NAME = 'gatehouse.tts.v1.TextToSpeech';

/** Options for `createTextToSpeechService`. */
export interface TextToSpeechServiceOptions {
  /** Registry the TTS metrics are declared on. */
  registry: Registry;
  /** The `tts:` config section. */
  config: TtsConfig;
  /** For problems that fail no call (a replacement worker failing to start). Default: none. */
  logger?: Logger;
  /** Engines to host instead of those the config describes, in preference order (tests, benchmarks). */
  engines?: TtsEngine[];
  /** Told where each piece of a spliced template landed, at the voice's natural rate (benchmarks measure levels with it). */
  onSplicedPiece?: (piece: SplicedPiece) => void;
}

/** A template piece in a spliced clip: what `onSplicedPiece` is told. */
export interface SplicedPiece extends Omit<PlacedPiece, 'index'> {
  /** `fixed` (cached) or `dynamic` (a slot). */
  kind: 'fixed' | 'dynamic';
  /** Its text. */
  text: string;
}

/** The hosted service plus handles tests and benchmarks use. */
export interface TextToSpeechService extends HostedService {
  /** Engines in preference order; their `stats()` count syntheses. */
  readonly engines: readonly TtsEngine[];
  /** Entries and bytes in the template fragment cache. */
  fragmentCacheSize(): { entries: number; bytes: number };
}

/** Chunk size when streaming audio that already exists (spliced templates), in ms. */
const STREAM_CHUNK_MS = 100;

/** Builds the engines the config enables, eSpeak NG first (it wins ties when choosing a voice by language). */
export function createConfiguredEngines(config: TtsConfig, logger?: Logger): TtsEngine[] {
  const common = {
    ...workerPoolConfig(config),
    queueMax: config.maxQueuedJobs ?? config.queueMax,
    maxChunksInFlight: config.maxChunksInFlight,
    bufferBytesPerCall: config.bufferBytesPerCall,
    bufferBytesTotal: config.bufferBytesTotal,
    maxPausedWorkers: config.maxPausedWorkers,
    onBackgroundError: (error: Error) => logger?.warn('tts engine worker could not be replaced', { error: error.message }),
  };
  const engines = [createEspeakEngine(common)];
  if (config.flite.enabled) engines.push(createFliteEngine({ ...common, workers: config.flite.workers }));
  return engines;
}

/** Creates the TextToSpeech service. Engines start (and warm up) in `start()`; calls before that get UNAVAILABLE. */
export function createTextToSpeechService(options: TextToSpeechServiceOptions): TextToSpeechService {
  const { config } = options;
  const engines = options.engines ?? createConfiguredEngines(config, options.logger);
  const metrics: TtsMetrics = createTtsMetrics(options.registry, () => engines);
  const cache = new FragmentCache<{ samples: Int16Array; analysis: PieceAnalysis }>({
    maxEntries: config.templateCacheEntries,
    maxBytes: config.templateCacheMaxBytes,
  });
  let catalog: VoiceCatalog | undefined;

  const ready = (): VoiceCatalog => {
    if (!catalog) throw unavailable('TTS_WARMING_UP', 'TextToSpeech is still warming up its engines; retry shortly', 1000);
    return catalog;
  };
  const replies = new WeakMap<readonly CatalogVoice[], ListVoicesResponse>();
  const limits = { maxTextChars: config.maxTextChars, defaultLanguageCode: config.defaultLanguageCode };

  /** Runs one engine synthesis, feeding chunks to `onChunk`, and records its metrics. */
  const runEngine = async (
    plan: SynthesisPlan,
    text: string,
    signal: AbortSignal | undefined,
    onChunk: (s: Int16Array) => void | Promise<void>,
    context: JoinContext = {},
  ): Promise<void> => {
    const request: SynthesisRequest = {
      voiceName: plan.voice.name,
      text,
      speakingRate: plan.speakingRate,
      pitchSemitones: plan.pitchSemitones,
      ...context,
    };
    try {
      const result = await plan.voice.engineRef.synthesize(request, { signal, onChunk });
      metrics.queueWait.observe(result.queueWaitMs / 1000);
      const audioSeconds = result.sampleCount / result.sampleRateHz;
      if (audioSeconds > 0) metrics.realTimeFactor.observe(result.synthesisMs / 1000 / audioSeconds);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw engineFailure(error);
    }
  };

  const collect = async (plan: SynthesisPlan, text: string, signal: AbortSignal | undefined, context?: JoinContext): Promise<Int16Array> => {
    const chunks: Int16Array[] = [];
    await runEngine(
      plan,
      text,
      signal,
      (s) => {
        chunks.push(s);
      },
      context,
    );
    return concatPcm16(chunks);
  };

  /** All audio of a plan at the voice's natural rate (text: one synthesis; template: cached fixed pieces + slots). */
  const produce = async (plan: SynthesisPlan, signal: AbortSignal): Promise<Int16Array> => {
    if (plan.input.kind === 'text') return collect(plan, plan.input.text, signal);
    const planned = plan.input.pieces;
    const inContext = plan.voice.engineRef.synthesizesInContext === true;
    const pieces = await Promise.all(
      planned.map(async (piece, index) => {
        // Engines that can are given the words around a piece, so it starts and ends as inside the whole sentence
        // and the joins need no pause of their own; with others a join gets the pause the engine would make there.
        const context = inContext ? joinContext(planned, index) : {};
        const join = { pauseAfterMs: joinPauseMs(piece.text, plan.speakingRate), cutAtNext: context.continuation !== undefined };
        if (piece.kind === 'dynamic') return { samples: await collect(plan, piece.text, signal, context), ...join };
        const key = FragmentCache.key(
          plan.voice.name,
          plan.speakingRate,
          plan.pitchSemitones,
          [context.preceding, piece.text, context.continuation].join('\u2029'),
        );
        // Fixed fragments are shared by concurrent callers, so one caller's cancel must not fail the others:
        // they run without the caller's signal (they are short), and the caller stops waiting below.
        const { fragment, outcome } = await cache.get(key, async () => {
          const samples = await collect(plan, piece.text, undefined, context);
          return { samples, analysis: analysePiece(samples, plan.voice.naturalSampleRateHz) };
        });
        metrics.templateCache.inc({ result: outcome });
        return { ...fragment, ...join };
      }),
    );
    if (signal.aborted) throw signal.reason;
    const { onSplicedPiece } = options;
    const onLayout = onSplicedPiece && (({ index, ...placed }: PlacedPiece) => onSplicedPiece({ ...planned[index]!, ...placed }));
    const splice = { sampleRateHz: plan.voice.naturalSampleRateHz, crossfadeMs: config.crossfadeMs, contextMarginMs: CONTEXT_MARGIN_MS };
    return splicePieces(pieces, { ...splice, ...(onLayout ? { onLayout } : {}) });
  };

  const audioInfo = (plan: SynthesisPlan, durationSeconds: number): AudioInfo => ({
    audioEncoding: plan.encoding,
    sampleRateHertz: plan.sampleRateHz,
    container: plan.wav ? 'WAV' : 'RAW',
    voiceName: plan.voice.name,
    durationSeconds,
    languageCode: plan.languageCode,
  });

  // The generated handler type checks every method's name, request and reply against the proto.
  const implementation: TextToSpeechHandlers = {
    ListVoices: unary<ListVoicesRequest__Output, ListVoicesResponse>(async (request) => {
      // The catalog answers the same array for the same code, so the reply is built once per answer.
      const voices = ready().list(request.languageCode ?? '');
      let reply = replies.get(voices);
      if (reply === undefined) {
        reply = {
          voices: voices.map((v) => ({
            languageCodes: v.languages.map((l) => l.code),
            name: v.name,
            ssmlGender: v.gender,
            naturalSampleRateHertz: v.naturalSampleRateHz,
            engine: v.engine,
          })),
        };
        replies.set(voices, reply);
      }
      return reply;
    }),

    Synthesize: unary<SynthesizeRequest__Output, SynthesizeResponse>(async (request, ctx) => {
      const plan = planSynthesis(request, ready(), limits);
      const samples = await produce(plan, ctx.signal);
      const { bytes, sampleCount } = encodeClip(samples, plan.voice.naturalSampleRateHz, plan);
      const seconds = sampleCount / plan.sampleRateHz;
      metrics.audioSeconds.inc({ voice: plan.voice.name }, seconds);
      return { audioContent: bytes, audioInfo: audioInfo(plan, seconds) };
    }),

    StreamingSynthesize: serverStream<SynthesizeRequest__Output, StreamingSynthesizeResponse>(async (request, ctx, send) => {
      const plan = planSynthesis(request, ready(), limits);
      await streamPlan(plan, ctx.signal, send);
    }),
  };

  /** Streams a plan: text audio leaves as the engine produces it; a template is spliced first, then sent in chunks. */
  const streamPlan = async (plan: SynthesisPlan, signal: AbortSignal, send: Send<StreamingSynthesizeResponse>): Promise<void> => {
    const naturalRate = plan.voice.naturalSampleRateHz;
    const out = createOutputStream(naturalRate, plan);
    let first = true;
    const emit = async (bytes: Buffer): Promise<void> => {
      if (bytes.length === 0 && !first) return;
      const message: StreamingSynthesizeResponse = { audioChunk: bytes };
      if (first) message.audioInfo = audioInfo(plan, 0);
      first = false;
      await send(message);
    };
    try {
      if (plan.input.kind === 'text') {
        await runEngine(plan, plan.input.text, signal, (samples) => {
          const bytes = out.push(samples);
          // Returning the send promise is what propagates HTTP/2 backpressure down to the synthesiser.
          return bytes.length > 0 ? emit(bytes) : undefined;
        });
      } else {
        const samples = await produce(plan, signal);
        const step = Math.round((naturalRate * STREAM_CHUNK_MS) / 1000);
        for (let i = 0; i < samples.length; i += step) {
          if (signal.aborted) throw signal.reason;
          await emit(out.push(samples.subarray(i, i + step)));
        }
      }
      await emit(out.end());
      metrics.audioSeconds.inc({ voice: plan.voice.name }, out.sampleCount / plan.sampleRateHz);
    } finally {
      out.dispose();
    }
  };

  return {
    name: TTS_SERVICE_NAME,
    definition: loadServiceDefinition(TTS_SERVICE_NAME),
    implementation,
    engines,
    fragmentCacheSize: () => cache.size(),
    async start() {
      const results = await Promise.allSettled(engines.map((e) => e.start()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        await Promise.allSettled(engines.map((e) => e.stop()));
        throw failed.reason;
      }
      catalog = new VoiceCatalog(engines);
    },
    async stop() {
      catalog = undefined;
      await Promise.allSettled(engines.map((e) => e.stop()));
    },
  };
}

/** Maps an engine failure to what the client sees (worker pool failures through the pool's one mapping). */
function engineFailure(error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  if (error instanceof WorkerPoolError) return workerPoolErrorToStatus(error);
  return internal(error);
}
