/**
 * Turns streamed audio chunks into 16 kHz samples as they arrive, so recognition (and interim results) keep pace
 * with the caller. The codecs are src/audio's and ogg-opus-decoder's; this file only keeps the state between chunks:
 * the format a WAV header announced, the Opus decoder, the resampler.
 */

import type { OggOpusDecoder } from 'ogg-opus-decoder';

import {
  AudioFormatError,
  StreamingResampler,
  bufferToPcm16,
  decodeAlaw,
  decodeAudio,
  decodeMulaw,
  float32ToPcm16,
  checkFirstPage,
  firstOggPageLength,
  loadOggOpusDecoder,
  looksLikeOgg,
  looksLikeWav,
  parseWav,
  type AudioEncodingName,
} from '../../audio/index.js';
import { DECODER_SAMPLE_RATE_HZ } from '../../engines/pocketsphinx/index.js';
import { MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from './recognition-config.js';

type SampleCoding = 'pcm16' | 'mulaw' | 'alaw';

function checkRate(rate: number, where: string): void {
  if (rate < MIN_SAMPLE_RATE_HZ || rate > MAX_SAMPLE_RATE_HZ) {
    throw new AudioFormatError(
      'UNSUPPORTED_RATE',
      `${where} sample rate ${rate} Hz is not supported; use ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ} Hz`,
    );
  }
}

/** Decodes a whole clip (Recognize) to 16 kHz mono. Throws {@link AudioFormatError} for anything unreadable. */
export async function decodeClipTo16k(
  bytes: Uint8Array,
  encoding: AudioEncodingName,
  declaredRateHz: number,
): Promise<{ samples: Int16Array; sourceRateHz: number }> {
  if (looksLikeWav(bytes) && encoding !== 'OGG_OPUS') {
    const channels = parseWav(bytes).channels;
    if (channels !== 1) throw new AudioFormatError('NOT_MONO', `the WAV file has ${channels} channels; only mono audio is supported`);
  }
  const decoded = await decodeAudio(bytes, encoding, declaredRateHz);
  if (encoding === 'OGG_OPUS' && decoded.samples.length === 0) {
    throw new AudioFormatError('BAD_OGG_OPUS', 'audio_content is not a valid Ogg Opus stream: no audio could be decoded from it');
  }
  checkRate(decoded.sampleRateHz, 'audio');
  if (decoded.sampleRateHz === DECODER_SAMPLE_RATE_HZ) return { samples: decoded.samples, sourceRateHz: decoded.sampleRateHz };
  const r = new StreamingResampler(decoded.sampleRateHz, DECODER_SAMPLE_RATE_HZ);
  const head = r.push(decoded.samples);
  const tail = r.flush();
  const out = new Int16Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return { samples: out, sourceRateHz: decoded.sampleRateHz };
}

/** Incremental decoder for one stream. Call `push` per chunk in order, then `end` once; `close` frees it in any case. */
export class StreamAudioDecoder {
  private coding: SampleCoding | 'opus' | undefined;
  private resampler: StreamingResampler | undefined;
  private opus: OggOpusDecoder | undefined;
  private opusSamples = 0;
  private opusBytes = 0;
  /** Bytes of an Ogg stream held back until its first page is complete (at most one page, 65,307 bytes). */
  private headBytes: Buffer = Buffer.alloc(0);
  private chunks = 0;

  constructor(
    private readonly encoding: AudioEncodingName,
    private readonly declaredRateHz: number,
  ) {}

  /** Decodes one chunk; returns the 16 kHz samples it completes (maybe none). Throws {@link AudioFormatError}. */
  async push(chunk: Uint8Array): Promise<Int16Array> {
    this.chunks += 1;
    if (chunk.length === 0) return new Int16Array(0);
    if (this.encoding === 'OGG_OPUS') return this.pushOpus(chunk);
    let samples: Int16Array;
    if (this.coding === undefined) {
      // The first chunk fixes the format: a WAV header (which must be whole, and mono), or raw audio at the declared rate.
      if (looksLikeWav(chunk)) {
        const wav = parseWav(chunk);
        if (wav.channels !== 1)
          throw new AudioFormatError('NOT_MONO', `the WAV header declares ${wav.channels} channels; only mono audio is supported`);
        this.coding = wav.format;
      } else {
        this.coding = this.encoding === 'LINEAR16' ? 'pcm16' : this.encoding === 'MULAW' ? 'mulaw' : 'alaw';
      }
      const decoded = await decodeAudio(chunk, this.encoding, this.declaredRateHz);
      const rate = decoded.sampleRateHz;
      checkRate(rate, 'audio');
      this.resampler = new StreamingResampler(rate, DECODER_SAMPLE_RATE_HZ);
      samples = decoded.samples;
    } else if (this.coding === 'pcm16') {
      if (chunk.length % 2 !== 0) {
        throw new AudioFormatError(
          'ODD_PCM_LENGTH',
          `audio_content message ${this.chunks} has ${chunk.length} bytes; 16-bit LINEAR16 audio needs an even number of bytes in every message`,
        );
      }
      samples = bufferToPcm16(chunk);
    } else {
      samples = this.coding === 'mulaw' ? decodeMulaw(chunk) : decodeAlaw(chunk);
    }
    return this.resample(samples);
  }

  private resample(samples: Int16Array): Int16Array {
    const r = this.resampler!;
    return r.fromHz === r.toHz ? samples : r.push(samples);
  }

  private async pushOpus(chunk: Uint8Array): Promise<Int16Array> {
    const prefix = 'audio_content is not a valid Ogg Opus stream';
    if (!this.opus) {
      // Hold bytes back until the first page is whole, so its OpusHead is checked as Recognize checks it.
      const head = Buffer.concat([this.headBytes, chunk]);
      if (!looksLikeOgg(head.subarray(0, 4)) && head.length >= 4)
        throw new AudioFormatError('BAD_OGG_OPUS', `${prefix}: it does not start with an Ogg page ("OggS")`);
      const pageBytes = firstOggPageLength(head);
      if (head.length < 4 || pageBytes === undefined || head.length < pageBytes) {
        this.headBytes = head;
        return new Int16Array(0);
      }
      const problem = checkFirstPage(head);
      if (problem) throw new AudioFormatError('BAD_OGG_OPUS', `${prefix}: ${problem}`);
      this.headBytes = Buffer.alloc(0);
      chunk = head;
      const { OggOpusDecoder: Decoder } = await loadOggOpusDecoder();
      this.opus = new Decoder();
      await this.opus.ready;
      this.coding = 'opus';
      this.resampler = new StreamingResampler(48000, DECODER_SAMPLE_RATE_HZ);
    }
    this.opusBytes += chunk.length;
    let decoded;
    try {
      // Typed as synchronous, but ogg-opus-decoder 1.7 returns a promise here.
      decoded = await Promise.resolve(this.opus.decode(chunk));
    } catch (err) {
      throw new AudioFormatError('BAD_OGG_OPUS', `${prefix}: ${(err as Error).message}`, { cause: err });
    }
    // A little data may not make a whole page yet; only give up once a lot of bytes produced nothing but errors.
    const errors = decoded.errors ?? [];
    if (decoded.samplesDecoded === 0 && errors.length > 0 && this.opusSamples === 0) {
      throw new AudioFormatError('BAD_OGG_OPUS', `${prefix}: ${errors[0]!.message}`);
    }
    this.opusSamples += decoded.samplesDecoded;
    const mono = (decoded.channelData?.[0] ?? new Float32Array(0)).subarray(0, decoded.samplesDecoded);
    return this.resample(float32ToPcm16(mono));
  }

  /** Ends the stream: returns the resampler's tail. Throws when an Opus stream decoded to nothing. */
  async end(): Promise<Int16Array> {
    if (!this.opus && this.headBytes.length > 0) {
      throw new AudioFormatError(
        'BAD_OGG_OPUS',
        `audio_content is not a valid Ogg Opus stream: ${checkFirstPage(this.headBytes) ?? 'the first Ogg page is truncated'}`,
      );
    }
    if (this.coding === 'opus' && this.opus) {
      const rest = await this.opus.flush();
      // Nothing decoded from bytes that began like Ogg: headers only, or garbage after them.
      this.opusSamples += rest.samplesDecoded;
      if (this.opusSamples === 0 && this.opusBytes > 0) {
        throw new AudioFormatError('BAD_OGG_OPUS', 'audio_content is not a valid Ogg Opus stream: no audio could be decoded from it');
      }
      const mono = (rest.channelData?.[0] ?? new Float32Array(0)).subarray(0, rest.samplesDecoded);
      const head = this.resample(float32ToPcm16(mono));
      const tail = this.resampler!.flush();
      const out = new Int16Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      return out;
    }
    if (!this.resampler || this.resampler.fromHz === this.resampler.toHz) return new Int16Array(0);
    return this.resampler.flush();
  }

  /** Frees the Opus decoder. Idempotent. */
  close(): void {
    this.opus?.free();
    this.opus = undefined;
  }
}
