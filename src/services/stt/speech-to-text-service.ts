/**
 * gatehouse.stt.v1.SpeechToText on a pool of warm PocketSphinx decoders. Recognize decodes a whole clip; the
 * bidirectional StreamingRecognize takes a config, then audio chunks, and answers with interim results while audio
 * flows and a final result whenever the engine's voice activity detector ends an utterance.
 */

import type * as prom from 'prom-client';

import {
  createRecognizerPool,
  DECODER_SAMPLE_RATE_HZ,
  type RecognizerPool,
  type RecognizerPoolOptions,
  type RecognizerSession,
  type UtteranceResult,
} from '../../engines/pocketsphinx/index.js';
import { workerPoolConfig } from '../../config/worker-pool-schema.js';
import { loadOggOpusDecoder } from '../../audio/ogg-opus.js';
import { invalidArgument, unavailable } from '../../errors.js';
import type { RecognizeRequest__Output } from '../../generated/gatehouse/stt/v1/RecognizeRequest.js';
import type { RecognizeResponse } from '../../generated/gatehouse/stt/v1/RecognizeResponse.js';
import type { StreamingRecognizeRequest__Output } from '../../generated/gatehouse/stt/v1/StreamingRecognizeRequest.js';
import type { StreamingRecognizeResponse } from '../../generated/gatehouse/stt/v1/StreamingRecognizeResponse.js';
import type { SpeechToTextHandlers } from '../../generated/gatehouse/stt/v1/SpeechToText.js';
import { bidiStream, unary, type CallContext, type Send } from '../../handler.js';
import { loadServiceDefinition } from '../../proto/load.js';
import type { HostedService } from '../hosted-service.js';
import { mapRecognitionError } from './map-engine-error.js';
import { validateRecognitionConfig, type ValidRecognitionConfig } from './recognition-config.js';
import { decodeClipTo16k, StreamAudioDecoder } from './stream-audio-decoder.js';
import type { SttConfig } from './stt-config.js';
import { createSttMetrics } from './stt-metrics.js';
import { finalStreamingResult, interimStability, interimStreamingResult, msToDuration, recognizeResult } from './to-proto.js';

/** Fully-qualified name of the service (also its health service name). */
export const SPEECH_TO_TEXT_SERVICE_NAME = 'gatehouse.stt.v1.SpeechToText';

/** Options for {@link createSpeechToTextService}. */
export interface SpeechToTextServiceOptions {
  /** Registry the STT series go on. */
  registry: prom.Registry;
  /** The validated `stt:` config section. */
  config: SttConfig;
  /** Engine overrides for tests (e.g. library paths that do not exist); merged over what `config` says. */
  engine?: Partial<RecognizerPoolOptions>;
}

/** Builds the SpeechToText service. Its decoders load and warm up in `start()`. */
export function createSpeechToTextService(options: SpeechToTextServiceOptions): HostedService {
  const { config } = options;
  let pool: RecognizerPool | undefined;
  const metrics = createSttMetrics(options.registry, () => pool);
  const maxAudioMs = config.maxAudioSeconds * 1000;

  const acquire = async (ctx: CallContext): Promise<RecognizerSession> => {
    if (!pool) throw unavailable('STT_STARTING', 'speech recognition is starting; retry shortly', 1000);
    const t0 = performance.now();
    const session = await pool.acquire(ctx.signal);
    metrics.queueWait.observe((performance.now() - t0) / 1000);
    return session;
  };

  const account = (session: RecognizerSession): void => {
    if (session.audioMs <= 0) return;
    metrics.audioSeconds.inc(session.audioMs / 1000);
    metrics.realTimeFactor.observe(session.decodeMs / session.audioMs);
  };

  const tooLong = (what: string, field: string): Error => {
    metrics.rejected.inc({ reason: 'too_long' });
    return invalidArgument(what, [{ field, description: what }]);
  };

  const recognize = async (request: RecognizeRequest__Output, ctx: CallContext): Promise<RecognizeResponse> => {
    try {
      const cfg = validateRecognitionConfig(request.config, 'config');
      const bytes = request.audio?.content ?? Buffer.alloc(0);
      if (bytes.length === 0)
        throw invalidArgument('audio.content is empty; send the audio inline', [{ field: 'audio.content', description: 'is empty' }]);
      if (bytes.length > config.maxAudioBytes) {
        throw tooLong(`audio.content is ${bytes.length} bytes; at most ${config.maxAudioBytes} bytes are accepted`, 'audio.content');
      }
      const { samples } = await decodeClipTo16k(bytes, cfg.encoding, cfg.sampleRateHz);
      const audioMs = (samples.length / DECODER_SAMPLE_RATE_HZ) * 1000;
      if (audioMs > maxAudioMs) {
        throw tooLong(
          `audio.content holds ${(audioMs / 1000).toFixed(1)} s of audio; at most ${config.maxAudioSeconds} s are accepted`,
          'audio.content',
        );
      }
      const session = await acquire(ctx);
      try {
        // All the audio is here: the decoder normalises it by its own cepstral mean (see decoder.ts).
        await session.begin({ maxAlternatives: cfg.maxAlternatives, phrases: cfg.phrases, grammarJsgf: cfg.grammarJsgf, measureCmn: true });
        const outcome = await session.process(samples);
        const finals = [...outcome.finals, ...(await session.finish())];
        account(session);
        return {
          results: finals.map((u) => recognizeResult(u, cfg.maxAlternatives, cfg.wordTimeOffsets)),
          totalAudioTime: msToDuration(audioMs),
        };
      } finally {
        session.release();
      }
    } catch (err) {
      throw mapRecognitionError(err, ctx.signal, metrics, 'audio.content', 'config');
    }
  };

  const streamingRecognize = async (
    requests: AsyncIterable<StreamingRecognizeRequest__Output>,
    ctx: CallContext,
    send: Send<StreamingRecognizeResponse>,
  ): Promise<void> => {
    const it = requests[Symbol.asyncIterator]();
    let session: RecognizerSession | undefined;
    let decoder: StreamAudioDecoder | undefined;
    try {
      const first = await it.next();
      if (first.done) {
        throw invalidArgument('the stream ended without a streaming_config; send streaming_config in the first message', [
          { field: 'streaming_config', description: 'is required in the first message' },
        ]);
      }
      if (first.value.streamingRequest !== 'streamingConfig' || !first.value.streamingConfig) {
        throw invalidArgument('the first message must carry streaming_config; audio_content may only follow it', [
          { field: 'streaming_config', description: 'is required in the first message' },
        ]);
      }
      const sc = first.value.streamingConfig;
      const cfg: ValidRecognitionConfig = validateRecognitionConfig(sc.config, 'streaming_config.config');
      session = await acquire(ctx);
      await session.begin({
        maxAlternatives: cfg.maxAlternatives,
        phrases: cfg.phrases,
        grammarJsgf: cfg.grammarJsgf,
        interimResults: sc.interimResults,
      });
      decoder = new StreamAudioDecoder(cfg.encoding, cfg.sampleRateHz);
      const s = session;
      let bytes = 0;
      let lastInterim = '';
      let done = false;

      const emitFinals = async (finals: UtteranceResult[]): Promise<void> => {
        for (const u of finals) {
          if (done) return;
          if (sc.singleUtterance) {
            await send({ results: [], speechEventType: 'END_OF_SINGLE_UTTERANCE' });
            done = true;
          }
          await send({ results: [finalStreamingResult(u, cfg.maxAlternatives, cfg.wordTimeOffsets)], speechEventType: 'SPEECH_EVENT_UNSPECIFIED' });
          lastInterim = '';
        }
      };

      const feed = async (samples: Int16Array): Promise<void> => {
        if (s.audioMs + (samples.length / DECODER_SAMPLE_RATE_HZ) * 1000 > maxAudioMs) {
          throw tooLong(`the stream carried more than ${config.maxAudioSeconds} s of audio; end it and open a new one`, 'audio_content');
        }
        const outcome = await s.process(samples);
        await emitFinals(outcome.finals);
        if (!done && sc.interimResults && outcome.interim && outcome.interim !== lastInterim) {
          const stability = interimStability(lastInterim, outcome.interim);
          lastInterim = outcome.interim;
          await send({ results: [interimStreamingResult(outcome.interim, stability, s.audioMs)], speechEventType: 'SPEECH_EVENT_UNSPECIFIED' });
        }
      };

      while (!done) {
        const next = await it.next();
        if (next.done) break;
        const msg = next.value;
        if (msg.streamingRequest === 'streamingConfig') {
          throw invalidArgument('streaming_config was sent twice; send it only in the first message, then only audio_content', [
            { field: 'streaming_config', description: 'may only be in the first message' },
          ]);
        }
        const chunk = msg.audioContent ?? Buffer.alloc(0);
        bytes += chunk.length;
        if (bytes > config.maxAudioBytes) {
          throw tooLong(`the stream carried more than ${config.maxAudioBytes} bytes of audio; end it and open a new one`, 'audio_content');
        }
        await feed(await decoder.push(chunk));
      }
      if (!done) {
        await feed(await decoder.end());
        if (!done) await emitFinals(await s.finish());
      }
      account(s);
    } catch (err) {
      throw mapRecognitionError(err, ctx.signal, metrics, 'audio_content', 'streaming_config.config');
    } finally {
      decoder?.close();
      session?.release();
      // Stop pulling requests: a single-utterance stream may end while the client still sends.
      void it.return?.();
    }
  };

  return {
    name: SPEECH_TO_TEXT_SERVICE_NAME,
    definition: loadServiceDefinition(SPEECH_TO_TEXT_SERVICE_NAME),
    implementation: {
      Recognize: unary(recognize),
      StreamingRecognize: bidiStream(streamingRecognize),
    } satisfies SpeechToTextHandlers,
    async start(): Promise<void> {
      if (pool) return;
      pool = createRecognizerPool({
        ...workerPoolConfig(config),
        modelDir: config.modelDir,
        endSilenceMs: config.endSilenceMs,
        ...options.engine,
      });
      // On failure the pool keeps retrying in the background; calls get UNAVAILABLE with the pool's words meanwhile.
      // The Ogg Opus decoder package loads while the decoders warm up, not at process start nor in a call.
      await Promise.all([pool.start(), loadOggOpusDecoder()]);
    },
    async stop(): Promise<void> {
      await pool?.stop();
    },
  };
}
