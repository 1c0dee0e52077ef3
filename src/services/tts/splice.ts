/**
 * Joining separately synthesised pieces into one clip: silence at the edges of each piece is trimmed to a short
 * natural pause, each piece's level is matched to the fixed pieces', and the joins are cross-faded so there is no
 * click. All pieces are at the same (the voice's natural) sample rate; conversion happens after joining.
 */

import { clampPcm16 } from '../../audio/pcm.js';

/** Options of `splicePieces`. */
export interface SpliceOptions {
  /** Sample rate of every piece, in Hz. */
  sampleRateHz: number;
  /** Cross-fade length at each join, in ms. */
  crossfadeMs: number;
  /** Silence kept at each inner edge of a piece, in ms (a word gap). Default 60. */
  gapMs?: number;
  /** Largest level correction applied to a piece, in dB. Default 6. */
  maxLevelCorrectionDb?: number;
}

/** Where the speech is in a piece and how loud it is; computed once for cached fragments. */
export interface PieceAnalysis {
  /** Speech bounds in samples, or undefined for a silent piece. */
  bounds: { start: number; end: number } | undefined;
  /** RMS over the speech part. */
  speechRms: number;
}

/** A piece to join and whether its level is the reference (fixed pieces) or adjusted (slots). */
export interface SplicePiece {
  samples: Int16Array;
  /** Reference pieces set the level; others are scaled towards it. */
  reference: boolean;
  /** Precomputed `analysePiece` result (cached fragments); computed here when absent. */
  analysis?: PieceAnalysis;
  /** Silence between this piece's speech and the next one's, in ms; default twice `gapMs`. */
  pauseAfterMs?: number;
}

/**
 * The pause the engine makes inside a whole sentence, by the punctuation that ends the text before it, in ms at
 * speaking rate 1. Measured on eSpeak NG's whole-sentence synthesis (en-US and ru, silences by the same 10 ms
 * frames and 5% threshold `speechBounds` uses): about 200 ms after a comma, 330-340 ms after a full stop, and
 * 0-50 ms between words (a stop's closure) where there is no punctuation.
 */
export const JOIN_PAUSES_MS = { sentence: 340, clause: 200, word: 30 } as const;

/** The pause after a piece whose text is `text`, at speaking rate `speakingRate` (1 = normal), in ms. */
export function joinPauseMs(text: string, speakingRate = 1): number {
  const end = text.trimEnd().replace(/["'»”’)\]]+$/u, '').slice(-1);
  const ms = /[.!?…]/u.test(end) ? JOIN_PAUSES_MS.sentence : /[,;:—–-]/u.test(end) ? JOIN_PAUSES_MS.clause : JOIN_PAUSES_MS.word;
  return ms / speakingRate;
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

/** RMS over the speech part of a piece (silence would dilute it). */
function speechRms(s: Int16Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const v = s[i]!;
    if (Math.abs(v) > 200) {
      sum += v * v;
      n++;
    }
  }
  return n === 0 ? 0 : Math.sqrt(sum / n);
}

/** Analyses a piece for splicing (speech bounds and level) at `sampleRateHz`. */
export function analysePiece(samples: Int16Array, sampleRateHz: number): PieceAnalysis {
  return { bounds: speechBounds(samples, sampleRateHz), speechRms: speechRms(samples) };
}

/** Joins pieces as described in the module comment. The first piece keeps its leading and the last its trailing silence. */
export function splicePieces(pieces: readonly SplicePiece[], options: SpliceOptions): Int16Array {
  const rate = options.sampleRateHz;
  const gap = Math.round(((options.gapMs ?? 60) * rate) / 1000);
  const fade = Math.round((options.crossfadeMs * rate) / 1000);
  const maxCorrection = 10 ** ((options.maxLevelCorrectionDb ?? 6) / 20);
  const analyses = pieces.map((p) => p.analysis ?? analysePiece(p.samples, rate));
  const refs = pieces.flatMap((p, i) => (p.reference && analyses[i]!.speechRms > 0 ? [analyses[i]!.speechRms] : []));
  const targetRms = refs.length > 0 ? refs.reduce((a, b) => a + b, 0) / refs.length : 0;

  const trimmed: Float32Array[] = [];
  pieces.forEach((piece, index) => {
    const { bounds, speechRms: own } = analyses[index]!;
    if (!bounds) return; // nothing audible: a join with silence only adds a pause
    // The pause at a join is split between the two pieces' edges; the cross-fade overlaps them a little.
    const half = (ms: number | undefined): number => (ms === undefined ? gap : Math.round((ms * rate) / 2000));
    const start = index === 0 ? 0 : Math.max(0, bounds.start - half(pieces[index - 1]!.pauseAfterMs));
    const end = index === pieces.length - 1 ? piece.samples.length : Math.min(piece.samples.length, bounds.end + half(piece.pauseAfterMs));
    let gain = 1;
    if (!piece.reference && targetRms > 0) {
      if (own > 0) gain = Math.min(maxCorrection, Math.max(1 / maxCorrection, targetRms / own));
    }
    const out = new Float32Array(end - start);
    for (let i = 0; i < out.length; i++) out[i] = piece.samples[start + i]! * gain;
    trimmed.push(out);
  });
  if (trimmed.length === 0) return new Int16Array(0);

  let total = trimmed[0]!.length;
  for (let k = 1; k < trimmed.length; k++) total += trimmed[k]!.length - Math.min(fade, trimmed[k - 1]!.length, trimmed[k]!.length);
  const mixed = new Float32Array(total);
  let offset = 0;
  trimmed.forEach((piece, k) => {
    const overlap = k === 0 ? 0 : Math.min(fade, trimmed[k - 1]!.length, piece.length);
    offset -= overlap;
    for (let i = 0; i < piece.length; i++) {
      // Linear fade-in over the overlap; the previous piece's tail was already faded out below.
      const w = i < overlap ? (i + 0.5) / overlap : 1;
      mixed[offset + i]! += piece[i]! * w;
    }
    const next = trimmed[k + 1];
    if (next) {
      const nextOverlap = Math.min(fade, piece.length, next.length);
      for (let i = 0; i < nextOverlap; i++) {
        const pos = offset + piece.length - nextOverlap + i;
        mixed[pos] = mixed[pos]! - piece[piece.length - nextOverlap + i]! * ((i + 0.5) / nextOverlap);
      }
    }
    offset += piece.length;
  });
  const out = new Int16Array(total);
  for (let i = 0; i < total; i++) out[i] = clampPcm16(mixed[i]!);
  return out;
}
