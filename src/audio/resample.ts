/**
 * Band-limited sample-rate conversion for 16-bit mono PCM: a Kaiser-windowed sinc evaluated as a polyphase filter
 * bank for the exact rational ratio between the two rates (e.g. 22050 -> 8000 is 160/441). Linear interpolation would
 * fold everything above the new Nyquist frequency back into the audible band; this filter removes it first.
 */

import { clampPcm16 } from './pcm.js';

/** Tuning of the anti-aliasing filter. The defaults give about 80 dB of stop-band rejection. */
export interface ResamplerOptions {
  /**
   * Zero crossings of the sinc on each side of the centre, counted at the lower of the two rates. More gives a
   * sharper transition band and more work per sample. Default 24.
   */
  halfWidthZeroCrossings?: number;
  /** Pass-band edge as a fraction of the lower Nyquist frequency (0..1). Default 0.9. */
  rolloff?: number;
  /** Kaiser window shape parameter; higher means more stop-band rejection and a wider transition. Default 9. */
  kaiserBeta?: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series (converges fast for beta <= 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function validateRate(name: string, hz: number): void {
  if (!Number.isInteger(hz) || hz <= 0 || hz > 384000) {
    throw new RangeError(`${name} must be a positive integer sample rate up to 384000 Hz, got ${hz}`);
  }
}

/**
 * A stateful resampler for audio that arrives in pieces (streaming synthesis). Feed chunks with `push` and call
 * `flush` once at the end; the concatenation of the outputs equals `resamplePcm16` of the concatenated input, with
 * no delay: output sample n is the input evaluated at time n / toHz.
 */
export class StreamingResampler {
  /** Input rate in Hz. */
  readonly fromHz: number;
  /** Output rate in Hz. */
  readonly toHz: number;
  private readonly up: number; // L: interpolation factor of the rational ratio
  private readonly down: number; // M: decimation factor
  private readonly halfTaps: number; // W: input samples used on each side of the output instant
  private readonly bank: Float32Array; // L phases x 2W taps, phase-major
  private history: Float32Array = new Float32Array(0); // input samples from absolute index historyStart
  private historyStart = 0;
  private inputCount = 0; // total input samples pushed
  private nextOutput = 0; // index of the next output sample to produce
  private flushed = false;

  /**
   * @param fromHz input sample rate in Hz
   * @param toHz output sample rate in Hz
   * @param options filter tuning
   */
  constructor(fromHz: number, toHz: number, options: ResamplerOptions = {}) {
    validateRate('fromHz', fromHz);
    validateRate('toHz', toHz);
    this.fromHz = fromHz;
    this.toHz = toHz;
    const g = gcd(fromHz, toHz);
    this.up = toHz / g;
    this.down = fromHz / g;
    const zeroCrossings = options.halfWidthZeroCrossings ?? 24;
    const rolloff = options.rolloff ?? 0.9;
    const beta = options.kaiserBeta ?? 9;
    // When decimating, the cut-off moves down by to/from, so the kernel must be wider (in input samples) by the
    // same factor to keep the transition band equally sharp.
    const scale = Math.min(1, toHz / fromHz) * rolloff;
    const halfTaps = Math.ceil(zeroCrossings / Math.min(1, toHz / fromHz));
    this.halfTaps = halfTaps;
    const taps = 2 * halfTaps;
    if (fromHz === toHz) {
      this.bank = new Float32Array(0);
      return;
    }
    this.bank = new Float32Array(this.up * taps);
    const i0Beta = besselI0(beta);
    for (let p = 0; p < this.up; p++) {
      const frac = p / this.up;
      let sum = 0;
      for (let k = 0; k < taps; k++) {
        // Distance (in input samples) from tap k to the output instant i + frac, with taps at i-W+1 .. i+W.
        const d = frac + halfTaps - 1 - k;
        const x = d / halfTaps;
        const window = Math.abs(x) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - x * x)) / i0Beta;
        const arg = Math.PI * scale * d;
        const sinc = d === 0 ? 1 : Math.sin(arg) / arg;
        const c = scale * sinc * window;
        this.bank[p * taps + k] = c;
        sum += c;
      }
      // Normalise each phase to unit DC gain so a constant input stays exactly constant (no phase ripple).
      if (sum !== 0) for (let k = 0; k < taps; k++) this.bank[p * taps + k]! /= sum;
    }
  }

  /** Adds input samples and returns the output samples that are now fully determined. */
  push(samples: Int16Array): Int16Array {
    if (this.flushed) throw new Error('StreamingResampler.push called after flush');
    if (this.fromHz === this.toHz) {
      this.inputCount += samples.length;
      return samples.slice();
    }
    this.append(samples);
    // Output n needs input up to floor(n*M/L) + W.
    return this.produce((n) => Math.floor((n * this.down) / this.up) + this.halfTaps < this.inputCount);
  }

  /** Produces the remaining output (treating input past the end as silence). Call once. */
  flush(): Int16Array {
    if (this.flushed) return new Int16Array(0);
    this.flushed = true;
    if (this.fromHz === this.toHz) return new Int16Array(0);
    const total = Math.ceil((this.inputCount * this.up) / this.down);
    return this.produce((n) => n < total);
  }

  private append(samples: Int16Array): void {
    const merged = new Float32Array(this.history.length + samples.length);
    merged.set(this.history);
    for (let i = 0; i < samples.length; i++) merged[this.history.length + i] = samples[i]!;
    this.history = merged;
    this.inputCount += samples.length;
  }

  private produce(ready: (n: number) => boolean): Int16Array {
    const taps = 2 * this.halfTaps;
    const out: number[] = [];
    const hist = this.history;
    const start = this.historyStart;
    const end = start + hist.length;
    while (ready(this.nextOutput)) {
      const n = this.nextOutput;
      const pos = n * this.down;
      const i = Math.floor(pos / this.up);
      const p = pos - i * this.up;
      const base = p * taps;
      const first = i - this.halfTaps + 1;
      let acc = 0;
      for (let k = 0; k < taps; k++) {
        const j = first + k;
        if (j < start || j >= end) continue; // before the start or past the end: silence
        acc += this.bank[base + k]! * hist[j - start]!;
      }
      out.push(clampPcm16(acc));
      this.nextOutput++;
    }
    // Drop history no future output can reach.
    const nextI = Math.floor((this.nextOutput * this.down) / this.up);
    const keepFrom = Math.max(start, nextI - this.halfTaps + 1);
    if (keepFrom > start) {
      this.history = hist.slice(Math.min(hist.length, keepFrom - start));
      this.historyStart = keepFrom;
    }
    return Int16Array.from(out);
  }
}

/**
 * Converts 16-bit mono PCM from one sample rate to another with an anti-aliasing windowed-sinc filter.
 * Returns a copy when the rates are equal. The output has `ceil(samples.length * toHz / fromHz)` samples.
 */
export function resamplePcm16(samples: Int16Array, fromHz: number, toHz: number, options?: ResamplerOptions): Int16Array {
  if (fromHz === toHz) {
    validateRate('fromHz', fromHz);
    return samples.slice();
  }
  const r = new StreamingResampler(fromHz, toHz, options);
  const a = r.push(samples);
  const b = r.flush();
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
