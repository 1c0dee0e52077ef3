/**
 * Turning synthesised samples (at the voice's natural rate) into the bytes a request asked for: volume gain, then
 * band-limited resampling, then the encoding (with a WAV header when asked). The streaming form keeps resampler and
 * Opus encoder state across chunks, so the concatenated chunks form one valid stream.
 */

import { encodeAudio } from '../../audio/encode-audio.js';
import { encodeAlaw, encodeMulaw } from '../../audio/g711.js';
import { OggOpusEncoder } from '../../audio/ogg-opus.js';
import { applyGainDb, pcm16ToBuffer } from '../../audio/pcm.js';
import { resamplePcm16, StreamingResampler } from '../../audio/resample.js';
import { streamingWavHeader } from '../../audio/wav.js';
import type { AudioEncodingName } from '../../audio/decode-audio.js';

/** The output side of a plan. */
export interface OutputFormat {
  encoding: AudioEncodingName;
  /** WAV header (LINEAR16, MULAW, ALAW only). */
  wav: boolean;
  /** Output rate in Hz. */
  sampleRateHz: number;
  /** Gain applied before resampling, in dB. */
  volumeGainDb: number;
}

/** Encodes a whole clip at `inputRateHz` into the requested format. */
export function encodeClip(samples: Int16Array, inputRateHz: number, format: OutputFormat): { bytes: Buffer; sampleCount: number } {
  const gained = format.volumeGainDb === 0 ? samples : applyGainDb(samples, format.volumeGainDb);
  const resampled = resamplePcm16(gained, inputRateHz, format.sampleRateHz);
  return { bytes: encodeAudio(resampled, format.sampleRateHz, format.encoding, format.wav), sampleCount: resampled.length };
}

/** Incremental encoder for streaming; see `createOutputStream`. */
export interface OutputStream {
  /** Encodes more samples (at the input rate); may return an empty buffer while the encoder fills a frame. */
  push(samples: Int16Array): Buffer;
  /** Flushes the resampler and encoder; call once at the end. */
  end(): Buffer;
  /** Frees encoder resources when the stream ends early. Safe after `end`. */
  dispose(): void;
  /** Output samples produced so far. */
  readonly sampleCount: number;
}

/** Creates an incremental encoder from `inputRateHz` to `format`. */
export function createOutputStream(inputRateHz: number, format: OutputFormat): OutputStream {
  const resampler = inputRateHz === format.sampleRateHz ? undefined : new StreamingResampler(inputRateHz, format.sampleRateHz);
  const opus = format.encoding === 'OGG_OPUS' ? new OggOpusEncoder({ inputSampleRateHz: format.sampleRateHz }) : undefined;
  let headerPending = format.wav;
  let sampleCount = 0;
  const encode = (pcm: Int16Array): Buffer => {
    sampleCount += pcm.length;
    let body: Buffer;
    switch (format.encoding) {
      case 'OGG_OPUS':
        return opus!.push(pcm);
      case 'MULAW':
      case 'ALAW': {
        const bytes = format.encoding === 'MULAW' ? encodeMulaw(pcm) : encodeAlaw(pcm);
        body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
        break;
      }
      default:
        body = pcm16ToBuffer(pcm);
    }
    if (!headerPending) return body;
    headerPending = false;
    const coding = format.encoding === 'MULAW' ? 'mulaw' : format.encoding === 'ALAW' ? 'alaw' : 'pcm16';
    return Buffer.concat([streamingWavHeader(format.sampleRateHz, coding), body]);
  };
  return {
    push(samples) {
      const gained = format.volumeGainDb === 0 ? samples : applyGainDb(samples, format.volumeGainDb);
      return encode(resampler ? resampler.push(gained) : gained);
    },
    end() {
      const tail = encode(resampler ? resampler.flush() : new Int16Array(0));
      return opus ? Buffer.concat([tail, opus.end()]) : tail;
    },
    dispose() {
      opus?.dispose();
    },
    get sampleCount() {
      return sampleCount;
    },
  };
}
