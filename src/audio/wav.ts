/**
 * RIFF/WAVE reading and writing for mono speech audio. Writing always produces canonical 44-byte-header 16-bit PCM;
 * reading accepts 16-bit PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with a PCM sub-format) and 8-bit G.711
 * (A-law format 6, mu-law format 7), and mixes several channels down to mono.
 */

import { AudioFormatError } from './audio-format-error.js';
import { decodeAlaw, decodeMulaw } from './g711.js';

/** Size of the header `encodeWav` writes. */
export const WAV_HEADER_BYTES = 44;

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

/** What `parseWav` found in a file. */
export interface ParsedWav {
  /** Mono 16-bit samples (channels averaged, G.711 expanded). */
  samples: Int16Array;
  /** Sample rate from the `fmt ` chunk, in Hz. */
  sampleRateHz: number;
  /** Channel count in the file (the samples are already mixed to mono). */
  channels: number;
  /** Sample coding in the file. */
  format: 'pcm16' | 'alaw' | 'mulaw';
}

/** Writes a RIFF header for `dataBytes` bytes of audio in the given WAVE format. */
function writeHeader(dataBytes: number, sampleRateHz: number, formatCode: number, bitsPerSample: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  const blockAlign = bitsPerSample / 8;
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(formatCode, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRateHz, 24);
  h.writeUInt32LE(sampleRateHz * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(bitsPerSample, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Encodes mono 16-bit samples as a canonical PCM WAV file. */
export function encodeWav(samples: Int16Array, sampleRateHz: number): Buffer {
  const data = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(samples[i]!, i * 2);
  return Buffer.concat([writeHeader(data.length, sampleRateHz, FORMAT_PCM, 16), data]);
}

/**
 * Wraps already-encoded G.711 bytes in a WAV file (format 7 for mu-law, 6 for A-law), which is what telephony
 * tools expect when they read `.wav` files of companded audio.
 */
export function encodeG711Wav(bytes: Uint8Array, sampleRateHz: number, law: 'mulaw' | 'alaw'): Buffer {
  const header = writeHeader(bytes.length, sampleRateHz, law === 'mulaw' ? FORMAT_MULAW : FORMAT_ALAW, 8);
  return Buffer.concat([header, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)]);
}

/**
 * Builds a WAV header for a stream whose length is not known yet (streaming synthesis): 16-bit PCM by default, or
 * 8-bit G.711. Sizes are set to the maximum, which readers treat as "until end of file".
 */
export function streamingWavHeader(sampleRateHz: number, coding: 'pcm16' | 'mulaw' | 'alaw' = 'pcm16'): Buffer {
  const h =
    coding === 'pcm16'
      ? writeHeader(0, sampleRateHz, FORMAT_PCM, 16)
      : writeHeader(0, sampleRateHz, coding === 'mulaw' ? FORMAT_MULAW : FORMAT_ALAW, 8);
  h.writeUInt32LE(0xffffffff, 4);
  h.writeUInt32LE(0xffffffff, 40);
  return h;
}

/** True when the bytes start with a RIFF/WAVE signature. */
export function looksLikeWav(buf: Uint8Array): boolean {
  return (
    buf.length >= 12 &&
    buf[0] === 0x52 &&
    buf[1] === 0x49 &&
    buf[2] === 0x46 &&
    buf[3] === 0x46 && // RIFF
    buf[8] === 0x57 &&
    buf[9] === 0x41 &&
    buf[10] === 0x56 &&
    buf[11] === 0x45 // WAVE
  );
}

/**
 * Parses a WAV file. Throws `AudioFormatError` (reason `BAD_WAV`) naming the problem when the file is truncated,
 * lacks a `fmt ` or `data` chunk, or uses a coding other than 16-bit PCM, A-law or mu-law.
 */
export function parseWav(input: Uint8Array): ParsedWav {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (!looksLikeWav(buf)) {
    throw new AudioFormatError('BAD_WAV', 'audio is not a WAV file: it does not start with a RIFF/WAVE header');
  }
  let offset = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number; blockAlign: number } | undefined;
  let data: Buffer | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    let size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    // Streaming writers leave 0 or 0xFFFFFFFF in the data size; take what is there.
    if (id === 'data' && (size === 0 || body + size > buf.length)) size = buf.length - body;
    if (body + size > buf.length) {
      throw new AudioFormatError('BAD_WAV', `WAV file is truncated: chunk "${id}" declares ${size} bytes but only ${buf.length - body} remain`);
    }
    if (id === 'fmt ') {
      if (size < 16) throw new AudioFormatError('BAD_WAV', `WAV "fmt " chunk is ${size} bytes, expected at least 16`);
      let format = buf.readUInt16LE(body);
      if (format === FORMAT_EXTENSIBLE && size >= 26) format = buf.readUInt16LE(body + 24); // first 2 bytes of the sub-format GUID
      fmt = {
        format,
        channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4),
        blockAlign: buf.readUInt16LE(body + 12),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      data = buf.subarray(body, body + size);
      if (fmt) break;
    }
    offset = body + size + (size & 1); // chunks are word-aligned
  }
  if (!fmt) throw new AudioFormatError('BAD_WAV', 'WAV file has no "fmt " chunk');
  if (!data) throw new AudioFormatError('BAD_WAV', 'WAV file has no "data" chunk');
  const { format, channels, rate, bits } = fmt;
  if (channels < 1) throw new AudioFormatError('BAD_WAV', 'WAV header declares 0 channels');
  if (rate < 1) throw new AudioFormatError('BAD_WAV', 'WAV header declares a sample rate of 0');
  let mono: Int16Array;
  let kind: ParsedWav['format'];
  if (format === FORMAT_PCM && bits === 16) {
    const frames = Math.floor(data.length / (2 * channels));
    mono = new Int16Array(frames);
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += data.readInt16LE((f * channels + c) * 2);
      mono[f] = Math.round(sum / channels);
    }
    kind = 'pcm16';
  } else if ((format === FORMAT_MULAW || format === FORMAT_ALAW) && bits === 8) {
    const expanded = format === FORMAT_MULAW ? decodeMulaw(data) : decodeAlaw(data);
    const frames = Math.floor(expanded.length / channels);
    mono = new Int16Array(frames);
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += expanded[f * channels + c]!;
      mono[f] = Math.round(sum / channels);
    }
    kind = format === FORMAT_MULAW ? 'mulaw' : 'alaw';
  } else {
    throw new AudioFormatError(
      'UNSUPPORTED_WAV',
      `WAV coding not supported: format code ${format} with ${bits} bits per sample; ` +
        'use 16-bit PCM (format 1), 8-bit A-law (6) or 8-bit mu-law (7)',
    );
  }
  return { samples: mono, sampleRateHz: rate, channels, format: kind };
}
