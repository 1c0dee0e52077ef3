/**
 * Helpers for signed 16-bit mono PCM, the one sample format every module in Gatehouse passes around.
 * Buffers are little-endian regardless of the host, so bytes on the wire mean the same thing everywhere.
 */

/** Largest magnitude a 16-bit sample can hold, used as 0 dBFS. */
export const PCM16_FULL_SCALE = 32768;

/** Typed arrays use the host's byte order; on little-endian hosts (all we run on) PCM can be copied as bytes. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Encodes samples as little-endian 16-bit PCM bytes (a fresh Buffer). */
export function pcm16ToBuffer(samples: Int16Array): Buffer {
  if (HOST_IS_LITTLE_ENDIAN) return Buffer.from(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, i * 2);
  return out;
}

/**
 * Decodes little-endian 16-bit PCM bytes into a fresh Int16Array. A trailing odd byte is ignored; callers that must
 * reject odd lengths (request validation) check before calling.
 */
export function bufferToPcm16(bytes: Uint8Array): Int16Array {
  const n = bytes.length >> 1;
  if (HOST_IS_LITTLE_ENDIAN) {
    const copy = new Uint8Array(n * 2);
    copy.set(bytes.subarray(0, n * 2));
    return new Int16Array(copy.buffer);
  }
  const out = new Int16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** Rounds and clamps a number to the 16-bit sample range. */
export function clampPcm16(value: number): number {
  const r = Math.round(value);
  return Math.min(32767, Math.max(r, -32768));
}

/** Converts a level change in decibels to a linear amplitude factor (6.02 dB doubles the amplitude). */
export function dbToGain(gainDb: number): number {
  return 10 ** (gainDb / 20);
}

/** Returns a new array with the gain applied (in dB), clipping at full scale rather than wrapping around. */
export function applyGainDb(samples: Int16Array, gainDb: number): Int16Array {
  const out = new Int16Array(samples.length);
  if (gainDb === 0) {
    out.set(samples);
    return out;
  }
  const g = dbToGain(gainDb);
  for (let i = 0; i < samples.length; i++) out[i] = clampPcm16(samples[i]! * g);
  return out;
}

/** Root-mean-square amplitude in sample units (0..32768); 0 for an empty array. */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / samples.length);
}

/** RMS level relative to full scale in dB (a full-scale square wave is 0 dBFS); -Infinity for silence. */
export function rmsDbfs(samples: Int16Array): number {
  const r = rms(samples);
  return r === 0 ? -Infinity : 20 * Math.log10(r / PCM16_FULL_SCALE);
}

/** Largest absolute sample value (0..32768). */
export function peak(samples: Int16Array): number {
  let p = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = Math.abs(samples[i]!);
    if (a > p) p = a;
  }
  return p;
}

/** Peak level relative to full scale in dB; -Infinity for silence. */
export function peakDbfs(samples: Int16Array): number {
  const p = peak(samples);
  return p === 0 ? -Infinity : 20 * Math.log10(p / PCM16_FULL_SCALE);
}

/** Converts float samples in [-1, 1] to 16-bit PCM, clipping outside that range. */
export function float32ToPcm16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = clampPcm16(samples[i]! * 32767);
  return out;
}

/** Converts 16-bit PCM to float samples in [-1, 1). */
export function pcm16ToFloat32(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / PCM16_FULL_SCALE;
  return out;
}

/** Concatenates several sample arrays into one new array. */
export function concatPcm16(parts: readonly Int16Array[]): Int16Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Int16Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
