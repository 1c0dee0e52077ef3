/**
 * ITU-T G.711 companding: mu-law (North America, Japan) and A-law (Europe, Russia), 8 bits per sample.
 * Implemented directly (a few lines each) so the codec has no dependency and runs on typed arrays.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** Encodes one 16-bit sample as a mu-law byte. */
export function mulawEncodeSample(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > MULAW_CLIP) s = MULAW_CLIP;
  s += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Decodes one mu-law byte to a 16-bit sample. */
export function mulawDecodeSample(byte: number): number {
  const u = ~byte & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return sign ? -magnitude : magnitude;
}

/** Encodes one 16-bit sample as an A-law byte. */
export function alawEncodeSample(sample: number): number {
  let s = sample >> 3; // A-law works on 13-bit magnitudes
  let mask: number;
  if (s >= 0) {
    mask = 0xd5; // sign bit set for positive, then even bits inverted
  } else {
    mask = 0x55;
    s = -s - 1;
  }
  let seg = 0;
  const ends = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  while (seg < 8 && s > ends[seg]!) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (s >> 1) & 0x0f : (s >> seg) & 0x0f;
  return (aval ^ mask) & 0xff;
}

/** Decodes one A-law byte to a 16-bit sample. */
export function alawDecodeSample(byte: number): number {
  const a = byte ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** Encodes 16-bit PCM to mu-law bytes. */
export function encodeMulaw(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = mulawEncodeSample(samples[i]!);
  return out;
}

/** Decodes mu-law bytes to 16-bit PCM. */
export function decodeMulaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = mulawDecodeSample(bytes[i]!);
  return out;
}

/** Encodes 16-bit PCM to A-law bytes. */
export function encodeAlaw(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = alawEncodeSample(samples[i]!);
  return out;
}

/** Decodes A-law bytes to 16-bit PCM. */
export function decodeAlaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = alawDecodeSample(bytes[i]!);
  return out;
}
