/**
 * Joining separately synthesised pieces into one clip. A piece the engine cut where the next one starts (it was
 * synthesised with the words around it, see `SynthesisRequest.continuation`) already ends as it would mid-sentence,
 * with the engine's own pause, and the next piece follows from its first sound. Otherwise the silence at a join is
 * set to the pause the engine makes there in a whole sentence (`joinPauseMs`): trimmed from the pieces' edges, or
 * padded where they have less. Joins are cross-faded so there is no click. Levels are left as the engine made them:
 * pieces of one voice and settings are as loud as the same words in the whole sentence (measured by
 * bench/tts-bench.ts), and matching a slot to the fixed pieces' average moved it up to 3.7 dB away from that.
 * All pieces are at the same (the voice's natural) sample rate; conversion happens after joining.
 */

import { clampPcm16 } from '../../audio/pcm.js';

/** Options of `splicePieces`. */
export interface SpliceOptions {
  /** Sample rate of every piece, in Hz. */
  sampleRateHz: number;
  /** Cross-fade length at each join, in ms. */
  crossfadeMs: number;
  /** Silence kept at each inner edge of a piece when it has no `pauseAfterMs`, in ms. Default 60. */
  gapMs?: number;
  /** Audio beyond the cut at each edge of a piece the engine cut in context (`CONTEXT_MARGIN_MS`), in ms. Default 0. */
  contextMarginMs?: number;
  /** Told where each audible piece landed in the result (benchmarks and tests measure levels with it). */
  onLayout?: (placed: PlacedPiece) => void;
}

/** Where a piece landed in a spliced clip. */
export interface PlacedPiece {
  /** Index of the piece in the `splicePieces` input. */
  index: number;
  /** First sample of the piece in the result (its fade-in included). */
  start: number;
  /** Sample after its last one. */
  end: number;
}

/** Where the speech is in a piece; computed once for cached fragments. */
export interface PieceAnalysis {
  /** Speech bounds in samples, or undefined for a silent piece. */
  bounds: { start: number; end: number } | undefined;
}

/** A piece to join. */
export interface SplicePiece {
  samples: Int16Array;
  /** Precomputed `analysePiece` result (cached fragments); computed here when absent. */
  analysis?: PieceAnalysis;
  /** Silence between this piece's speech and the next one's, in ms; default twice `gapMs`. Unused when `cutAtNext`. */
  pauseAfterMs?: number;
  /** The engine cut this piece where the next one starts: its end is kept as is and the next piece starts at its start. */
  cutAtNext?: boolean;
}

/** Frames of 10 ms whose RMS is above this fraction of the piece's loudest frame count as speech. */
const SPEECH_THRESHOLD = 0.05;

/** First and last sample of speech in `s` (by 10 ms frame energy), or undefined for silence. */
export function speechBounds(s: Int16Array, sampleRateHz: number): { start: number; end: number } | undefined {
  const frame = Math.max(1, Math.round(sampleRateHz / 100));
  const energies: number[] = [];
  for (let i = 0; i < s.length; i += frame) {
    let sum = 0;
    const end = Math.min(s.length, i + frame);
    for (let j = i; j < end; j++) sum += s[j]! * s[j]!;
    energies.push(Math.sqrt(sum / (end - i)));
  }
  const loudest = Math.max(0, ...energies);
  if (loudest < 50) return undefined;
  const threshold = loudest * SPEECH_THRESHOLD;
  const first = energies.findIndex((e) => e >= threshold);
  let last = energies.length - 1;
  while (last > first && energies[last]! < threshold) last--;
  return { start: first * frame, end: Math.min(s.length, (last + 1) * frame) };
}

/** Analyses a piece for splicing (where its speech is) at `sampleRateHz`. */
export function analysePiece(samples: Int16Array, sampleRateHz: number): PieceAnalysis {
  return { bounds: speechBounds(samples, sampleRateHz) };
}

/** Joins pieces as described in the module comment. The first piece keeps its leading and the last its trailing silence. */
export function splicePieces(pieces: readonly SplicePiece[], options: SpliceOptions): Int16Array {
  const rate = options.sampleRateHz;
  const gap = Math.round(((options.gapMs ?? 60) * rate) / 1000);
  const fade = Math.round((options.crossfadeMs * rate) / 1000);
  const analyses = pieces.map((p) => p.analysis ?? analysePiece(p.samples, rate));

  const audible = analyses.flatMap((analysis, index) => (analysis.bounds ? [index] : [])); // silence only adds a pause
  // Where each audible piece starts and ends, and the silence added after it where its edges have too little.
  const starts = audible.map((index) => analyses[index]!.bounds!.start);
  const ends = audible.map((index) => analyses[index]!.bounds!.end);
  const pads = audible.map(() => 0);
  audible.forEach((index, k) => {
    const piece = pieces[index]!;
    if (k === 0) starts[k] = 0;
    if (k === audible.length - 1) {
      ends[k] = piece.samples.length;
      return;
    }
    if (piece.cutAtNext) {
      ends[k] = piece.samples.length; // the engine's own ending and pause
      // The next piece from its very start: an engine that cuts puts no silence before speech, only what belongs to
      // the first sound (a stop's closure), which the whole sentence has there too.
      starts[k + 1] = 0;
      return;
    }
    // The pause is taken from the silence at both edges (half each where there is enough), the rest padded.
    const pause = piece.pauseAfterMs === undefined ? 2 * gap : Math.round((piece.pauseAfterMs * rate) / 1000);
    const tail = piece.samples.length - ends[k]!;
    const lead = starts[k + 1]!;
    let fromTail = Math.min(tail, Math.round(pause / 2));
    const fromLead = Math.min(lead, pause - fromTail);
    fromTail = Math.min(tail, pause - fromLead);
    ends[k] = ends[k]! + fromTail;
    starts[k + 1] = starts[k + 1]! - fromLead;
    pads[k] = pause - fromTail - fromLead;
  });
  const trimmed: Float32Array[] = audible.map((index, k) => {
    const piece = pieces[index]!;
    const start = starts[k]!;
    const out = new Float32Array(ends[k]! - start + pads[k]!); // padding stays zero
    for (let i = 0; i < ends[k]! - start; i++) out[i] = piece.samples[start + i]!;
    return out;
  });
  if (trimmed.length === 0) return new Int16Array(0);

  // Overlap of each piece with the one before it: the cross-fade, or where the engine cut both at one point of the
  // sentence, the context it kept beyond the cut on both sides (a cross-fade centred on the cut that loses no time).
  const contextOverlap = 2 * Math.round(((options.contextMarginMs ?? 0) * rate) / 1000);
  const overlaps = trimmed.map((piece, k) =>
    k === 0 ? 0 : Math.min(pieces[audible[k - 1]!]!.cutAtNext ? contextOverlap : fade, trimmed[k - 1]!.length, piece.length),
  );
  const total = trimmed.reduce((n, piece, k) => n + piece.length - overlaps[k]!, 0);
  const mixed = new Float32Array(total);
  let offset = 0;
  trimmed.forEach((piece, k) => {
    const overlap = overlaps[k]!;
    offset -= overlap;
    const start = offset;
    for (let i = 0; i < piece.length; i++) {
      // Linear fade-in over the overlap; the previous piece's tail was already faded out below.
      const w = i < overlap ? (i + 0.5) / overlap : 1;
      mixed[offset + i]! += piece[i]! * w;
    }
    const nextOverlap = overlaps[k + 1] ?? 0;
    for (let i = 0; i < nextOverlap; i++) {
      const pos = offset + piece.length - nextOverlap + i;
      mixed[pos] = mixed[pos]! - piece[piece.length - nextOverlap + i]! * ((i + 0.5) / nextOverlap);
    }
    offset += piece.length;
    options.onLayout?.({ index: audible[k]!, start, end: offset });
  });
  const out = new Int16Array(total);
  for (let i = 0; i < total; i++) out[i] = clampPcm16(mixed[i]!);
  return out;
}
