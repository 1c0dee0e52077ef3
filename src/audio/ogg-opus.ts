/**
 * Ogg Opus (RFC 7845) for mono speech: an encoder built on opusscript (libopus in WASM) with our own Ogg muxer, and
 * a decoder built on ogg-opus-decoder. The encoder is incremental so streaming synthesis can send pages as audio is
 * produced; `encodeOggOpus` is the one-shot form.
 */

import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';
import type { OggOpusDecoder as OggOpusDecoderClass } from 'ogg-opus-decoder';
import { AudioFormatError } from './audio-format-error.js';
import { float32ToPcm16 } from './pcm.js';
import { StreamingResampler } from './resample.js';

// opusscript is CommonJS with `export =` typings; createRequire keeps the ESM build honest about that.
const require = createRequire(import.meta.url);
type OpusScriptInstance = {
  encode(pcm: Buffer, frameSize: number): Buffer;
  setBitrate(bps: number): void;
  encoderCTL(ctl: number, arg: number): void;
  delete(): void;
};
type OpusScriptClass = {
  new (rate: number, channels: number, application: number): OpusScriptInstance;
  Application: { VOIP: number; AUDIO: number };
};
const OpusScript = require('opusscript') as OpusScriptClass;

/** Rates libopus accepts as input; anything else is resampled first. */
export const OPUS_INPUT_RATES_HZ: readonly number[] = [8000, 12000, 16000, 24000, 48000];
/** Ogg Opus granule positions always count 48 kHz samples, whatever the input rate. */
const GRANULE_RATE_HZ = 48000;
/** libopus' look-ahead for the VOIP/AUDIO applications (2.5 ms + 4 ms) at 48 kHz: the decoder discards this much. */
const PRE_SKIP_48K = 312;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_VOICE = 3001;
/** Ogg pages carry at most 255 lacing values; we also cap the packet count so pages stay around a second long. */
const MAX_PACKETS_PER_PAGE = 50;

/** Options for `OggOpusEncoder` and `encodeOggOpus`. */
export interface OggOpusEncoderOptions {
  /** Rate of the PCM that will be pushed, in Hz. Written to OpusHead as the input rate. Required. */
  inputSampleRateHz: number;
  /** Target bit rate in bits per second. Default 32000 (transparent for speech). */
  bitrateBps?: number;
  /** Encoder complexity 0..10. Default 5, which keeps encoding far faster than real time on one core. */
  complexity?: number;
  /** Ogg logical stream serial number. Default random, as RFC 3533 recommends. */
  serialNumber?: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final XOR. */
export function oggCrc32(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc >>> 0;
}

/** Builds one Ogg page holding whole packets (none continues onto the next page). */
function oggPage(packets: Buffer[], granule: bigint, serial: number, sequence: number, flags: number): Buffer {
  const lacing: number[] = [];
  for (const p of packets) {
    let n = p.length;
    while (n >= 255) {
      lacing.push(255);
      n -= 255;
    }
    lacing.push(n); // a final value < 255 (possibly 0) ends the packet
  }
  if (lacing.length > 255) throw new Error(`internal: Ogg page needs ${lacing.length} lacing values`);
  const header = Buffer.alloc(27 + lacing.length);
  header.write('OggS', 0, 'ascii');
  header[4] = 0; // version
  header[5] = flags;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(serial >>> 0, 14);
  header.writeUInt32LE(sequence >>> 0, 18);
  header.writeUInt32LE(0, 22); // CRC placeholder
  header[26] = lacing.length;
  for (let i = 0; i < lacing.length; i++) header[27 + i] = lacing[i]!;
  const page = Buffer.concat([header, ...packets]);
  page.writeUInt32LE(oggCrc32(page), 22);
  return page;
}

/**
 * Incremental Ogg Opus encoder for mono 16-bit PCM. `push` returns whatever complete Ogg pages are ready (the two
 * header pages come out of the first call); `end` returns the rest, with the end-of-stream page whose granule
 * position trims the padding of the last frame. Call `end` (or `dispose`) to release the WASM encoder.
 */
export class OggOpusEncoder {
  private readonly encoder: OpusScriptInstance;
  private readonly encodeRateHz: number;
  private readonly frameSamples: number; // 20 ms at encodeRateHz
  private readonly resampler: StreamingResampler | undefined;
  private readonly serial: number;
  private readonly inputRateHz: number;
  private pending = new Int16Array(0);
  private sequence = 0;
  private framesEncoded = 0;
  private inputSamples = 0;
  private headerSent = false;
  private finished = false;

  /** @param options see `OggOpusEncoderOptions` */
  constructor(options: OggOpusEncoderOptions) {
    const rate = options.inputSampleRateHz;
    if (!Number.isInteger(rate) || rate <= 0) throw new RangeError(`inputSampleRateHz must be a positive integer, got ${rate}`);
    this.inputRateHz = rate;
    this.encodeRateHz = OPUS_INPUT_RATES_HZ.includes(rate) ? rate : rate <= 24000 ? 24000 : 48000;
    this.resampler = this.encodeRateHz === rate ? undefined : new StreamingResampler(rate, this.encodeRateHz);
    this.frameSamples = this.encodeRateHz / 50;
    this.serial = options.serialNumber ?? randomInt(0, 0xffffffff);
    this.encoder = new OpusScript(this.encodeRateHz, 1, OpusScript.Application.AUDIO);
    this.encoder.setBitrate(options.bitrateBps ?? 32000);
    this.encoder.encoderCTL(OPUS_SET_COMPLEXITY, options.complexity ?? 5);
    this.encoder.encoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
  }

  /** Adds samples (at `inputSampleRateHz`) and returns any Ogg pages now complete (possibly empty). */
  push(samples: Int16Array): Buffer {
    if (this.finished) throw new Error('OggOpusEncoder.push called after end');
    this.inputSamples += samples.length;
    const chunk = this.resampler ? this.resampler.push(samples) : samples;
    const pages = this.takeHeaders();
    this.append(chunk);
    const packets = this.encodeFullFrames();
    pages.push(...this.packPages(packets, false));
    return Buffer.concat(pages);
  }

  /** Encodes what is left, writes the end-of-stream page and frees the encoder. */
  end(): Buffer {
    if (this.finished) return Buffer.alloc(0);
    const pages = this.takeHeaders();
    if (this.resampler) this.append(this.resampler.flush());
    const total48 = Math.round((this.inputSamples * GRANULE_RATE_HZ) / this.inputRateHz);
    const needed48 = PRE_SKIP_48K + total48;
    const per48 = GRANULE_RATE_HZ / 50;
    // Pad with silence so the encoder's look-ahead is flushed and every real sample reaches the decoder.
    const framesNeeded = Math.max(this.framesEncoded + 1, Math.ceil(needed48 / per48));
    const padFrames = framesNeeded - this.framesEncoded;
    const padded = new Int16Array(padFrames * this.frameSamples);
    padded.set(this.pending.subarray(0, Math.min(this.pending.length, padded.length)));
    this.pending = padded;
    const packets = this.encodeFullFrames();
    pages.push(...this.packPages(packets, true, BigInt(needed48)));
    this.dispose();
    return Buffer.concat(pages);
  }

  /** Frees the WASM encoder without writing anything more (e.g. the call was cancelled). Safe to call twice. */
  dispose(): void {
    if (this.finished) return;
    this.finished = true;
    this.encoder.delete();
  }

  private takeHeaders(): Buffer[] {
    if (this.headerSent) return [];
    this.headerSent = true;
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'ascii');
    head[8] = 1; // version
    head[9] = 1; // channels
    head.writeUInt16LE(PRE_SKIP_48K, 10);
    head.writeUInt32LE(this.inputRateHz, 12);
    head.writeInt16LE(0, 16); // output gain
    head[18] = 0; // mapping family 0: mono/stereo
    const vendor = Buffer.from('gatehouse (libopus via opusscript)', 'utf8');
    const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
    tags.write('OpusTags', 0, 'ascii');
    tags.writeUInt32LE(vendor.length, 8);
    vendor.copy(tags, 12);
    tags.writeUInt32LE(0, 12 + vendor.length); // no user comments
    return [oggPage([head], 0n, this.serial, this.sequence++, 0x02), oggPage([tags], 0n, this.serial, this.sequence++, 0x00)];
  }

  private append(samples: Int16Array): void {
    if (samples.length === 0) return;
    const merged = new Int16Array(this.pending.length + samples.length);
    merged.set(this.pending);
    merged.set(samples, this.pending.length);
    this.pending = merged;
  }

  private encodeFullFrames(): Buffer[] {
    const packets: Buffer[] = [];
    let offset = 0;
    while (this.pending.length - offset >= this.frameSamples) {
      const frame = this.pending.subarray(offset, offset + this.frameSamples);
      // opusscript wants little-endian bytes, not an Int16Array.
      const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
      packets.push(this.encoder.encode(Buffer.from(bytes), this.frameSamples));
      offset += this.frameSamples;
    }
    this.pending = this.pending.slice(offset);
    return packets;
  }

  private packPages(packets: Buffer[], last: boolean, finalGranule?: bigint): Buffer[] {
    const pages: Buffer[] = [];
    const per48 = GRANULE_RATE_HZ / 50;
    for (let i = 0; i < packets.length; i += MAX_PACKETS_PER_PAGE) {
      const group = packets.slice(i, i + MAX_PACKETS_PER_PAGE);
      this.framesEncoded += group.length;
      const isLast = last && i + MAX_PACKETS_PER_PAGE >= packets.length;
      const granule = isLast && finalGranule !== undefined ? finalGranule : BigInt(this.framesEncoded * per48);
      pages.push(oggPage(group, granule, this.serial, this.sequence++, isLast ? 0x04 : 0x00));
    }
    return pages;
  }
}

/** Encodes a whole clip of mono 16-bit PCM as an Ogg Opus file. */
export function encodeOggOpus(samples: Int16Array, sampleRateHz: number, options: Omit<OggOpusEncoderOptions, 'inputSampleRateHz'> = {}): Buffer {
  const enc = new OggOpusEncoder({ ...options, inputSampleRateHz: sampleRateHz });
  try {
    return Buffer.concat([enc.push(samples), enc.end()]);
  } finally {
    enc.dispose();
  }
}

/** True when the bytes start with an Ogg page signature. */
export function looksLikeOgg(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x4f && buf[1] === 0x67 && buf[2] === 0x67 && buf[3] === 0x53;
}

/** Length in bytes of the Ogg page at the start of `buf`, or undefined while its header is not all there yet. */
export function firstOggPageLength(buf: Uint8Array): number | undefined {
  if (buf.length < 27) return undefined;
  const segments = buf[26]!;
  if (buf.length < 27 + segments) return undefined;
  let bodyBytes = 0;
  for (let i = 0; i < segments; i++) bodyBytes += buf[27 + i]!;
  return 27 + segments + bodyBytes;
}

/**
 * What is wrong with an OpusHead packet (RFC 7845 section 5.1), or undefined. The decoder library would accept some
 * of these and then fail, or index past the header, while decoding.
 */
function opusHeadProblem(head: Uint8Array): string | undefined {
  const version = head[8]!;
  if (version >> 4 !== 0) return `OpusHead version ${version} is not supported (only version 0.x is)`;
  const channels = head[9]!;
  if (channels === 0) return 'OpusHead declares 0 channels';
  const family = head[18]!;
  if (family === 0) return channels <= 2 ? undefined : `OpusHead declares ${channels} channels with channel mapping family 0, which allows at most 2`;
  // Any other family carries a mapping table: stream count, coupled count and one byte per channel.
  if (head.length < 21 + channels) {
    return `OpusHead declares channel mapping family ${family} but has no channel mapping table for its ${channels} channels`;
  }
  const streams = head[19]!;
  const coupled = head[20]!;
  if (streams === 0 || coupled > streams) return `OpusHead's channel mapping table declares ${streams} streams of which ${coupled} coupled`;
  return undefined;
}

/** Checks the first Ogg page's structure, CRC and OpusHead; returns a description of the problem or undefined. */
export function checkFirstPage(buf: Uint8Array): string | undefined {
  if (buf.length < 27) return `it is only ${buf.length} bytes long, shorter than one Ogg page header`;
  const pageBytes = firstOggPageLength(buf);
  if (pageBytes === undefined || buf.length < pageBytes) return 'the first Ogg page is truncated';
  const segments = buf[26]!;
  const page = Buffer.from(buf.subarray(0, pageBytes));
  const stored = page.readUInt32LE(22);
  page.writeUInt32LE(0, 22);
  if (oggCrc32(page) !== stored) return 'the first Ogg page fails its CRC check (corrupted data?)';
  const body = page.subarray(27 + segments);
  if (body.length < 19 || body.toString('ascii', 0, 8) !== 'OpusHead') {
    return 'the first Ogg page does not hold an OpusHead packet (not Opus audio?)';
  }
  return opusHeadProblem(body);
}

let decoderModule: Promise<{ OggOpusDecoder: typeof OggOpusDecoderClass }> | undefined;

/**
 * Loads the Ogg Opus decoder package once. It is loaded on first use, not at start: it is one of the slowest
 * modules to load and only OGG_OPUS uploads need it. The speech-to-text service calls this while its decoders warm
 * up, so no call waits for it.
 */
export function loadOggOpusDecoder(): Promise<{ OggOpusDecoder: typeof OggOpusDecoderClass }> {
  decoderModule ??= import('ogg-opus-decoder');
  return decoderModule;
}

/**
 * Decodes an Ogg Opus file to mono 16-bit PCM at 48 kHz (channels averaged). Throws `AudioFormatError` with reason
 * `BAD_OGG_OPUS` when the bytes are not an Ogg Opus stream or nothing in them decodes.
 */
export async function decodeOggOpus(buf: Uint8Array): Promise<{ samples: Int16Array; sampleRateHz: number }> {
  const prefix = 'audio_content is not a valid Ogg Opus stream';
  if (!looksLikeOgg(buf)) {
    throw new AudioFormatError('BAD_OGG_OPUS', `${prefix}: it does not start with an Ogg page ("OggS")`);
  }
  const problem = checkFirstPage(buf);
  if (problem) throw new AudioFormatError('BAD_OGG_OPUS', `${prefix}: ${problem}`);
  const { OggOpusDecoder } = await loadOggOpusDecoder();
  const decoder = new OggOpusDecoder();
  try {
    await decoder.ready;
    let decoded;
    try {
      decoded = await decoder.decodeFile(buf);
    } catch (err) {
      throw new AudioFormatError('BAD_OGG_OPUS', `${prefix}: ${(err as Error).message}`, { cause: err });
    }
    if (decoded.samplesDecoded === 0 && decoded.errors.length > 0) {
      const first = decoded.errors[0]!;
      throw new AudioFormatError('BAD_OGG_OPUS', `${prefix}: ${first.message}`);
    }
    const channels = decoded.channelData;
    const n = decoded.samplesDecoded;
    let mono: Float32Array;
    if (channels.length <= 1) {
      mono = (channels[0] ?? new Float32Array(0)).subarray(0, n);
    } else {
      mono = new Float32Array(n);
      for (const ch of channels) for (let i = 0; i < n; i++) mono[i]! += ch[i]! / channels.length;
    }
    return { samples: float32ToPcm16(mono), sampleRateHz: decoded.sampleRate };
  } finally {
    decoder.free();
  }
}
