/**
 * One PocketSphinx decoder, driven synchronously. It lives inside a worker thread (see decoder-worker.ts) because every
 * call blocks. The utterance logic mirrors Debian's `pocketsphinx_continuous -infile`: audio goes in blocks of at most
 * 2048 samples, and an utterance ends when the engine's voice activity detector leaves speech.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { findCmnPrior } from './cmn-prior.js';
import {
  loadPocketSphinxLibrary,
  POCKETSPHINX_PACKAGES,
  type NativePointer,
  type PocketSphinxLibrary,
  type PocketSphinxLibraryPaths,
} from './pocketsphinx-library.js';
import type { ProcessOutcome, RecognitionAlternative, RecognizedWord, SessionConfig, UtteranceResult } from './recognition-result.js';
import { RecognizerRequestError, RecognizerUnavailableError } from './recognizer-errors.js';

/** Default model directory of Debian's `pocketsphinx-en-us`. */
export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/** The decoder's sample rate; callers resample to it. */
export const DECODER_SAMPLE_RATE_HZ = 16000;

/** Block size of `pocketsphinx_continuous`; voice activity is checked after each block. */
const BLOCK_SAMPLES = 2048;
/** Feature frames per second (`-frate`). */
const FRAME_RATE = 100;
const MS_PER_FRAME = 1000 / FRAME_RATE;
const GRAMMAR_SEARCH = 'gatehouse_grammar';
/** How many n-best entries to walk at most when collecting distinct alternatives. */
const NBEST_WALK_MAX = 50;
/** Weight of the starting cepstral mean when a session begins, in frames: as much as 5 s of speech (PocketSphinx's own window). */
const CMN_PRIOR_WEIGHT_FRAMES = 500;
/** Weight of the starting mean while measuring a caller's own audio, in frames (0.5 s): the audio decides, a click cannot. */
const CMN_MEASURE_WEIGHT_FRAMES = 50;
/**
 * Search used while measuring the cepstral mean: a one-word grammar, so the pass costs the front end and little search.
 * The mean comes from the front end (frames the voice activity detector passes), which does not depend on the search.
 */
const CMN_SEARCH = 'gatehouse_cmn';
const CMN_SEARCH_JSGF = '#JSGF V1.0;\ngrammar gatehouse_cmn;\npublic <any> = a;\n';

/** How to build a decoder. */
export interface DecoderOptions {
  /** Directory holding `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`; default {@link DEFAULT_MODEL_DIR}. */
  modelDir?: string;
  /** Silence after speech, in milliseconds, before the utterance ends (`-vad_postspeech`); default 500. */
  endSilenceMs?: number;
  /** Library names or paths; default the Debian sonames. */
  libraries?: PocketSphinxLibraryPaths;
  /**
   * Cepstral mean every recognition starts from (13 values for en-us). Default: the mean measured on real speech for
   * this model and rate (cmn-prior.ts), else the model's own `-cmninit`.
   */
  cmnPrior?: readonly number[];
}

function modelFiles(modelDir: string): { hmm: string; lm: string; dict: string } {
  return { hmm: join(modelDir, 'en-us'), lm: join(modelDir, 'en-us.lm.bin'), dict: join(modelDir, 'cmudict-en-us.dict') };
}

/** Throws {@link RecognizerUnavailableError} naming the package when a model file is missing (ps_init may exit the process on some). */
export function checkModel(modelDir: string): void {
  const f = modelFiles(modelDir);
  const needed = [
    join(f.hmm, 'mdef'),
    join(f.hmm, 'means'),
    join(f.hmm, 'variances'),
    join(f.hmm, 'transition_matrices'),
    join(f.hmm, 'feat.params'),
    f.lm,
    f.dict,
  ];
  const missing = needed.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new RecognizerUnavailableError(`speech model file ${missing[0]} is missing; install the model with: apt-get install pocketsphinx-en-us`);
  }
}

const FILLER = /^(<.*>|\[.*\]|\+\+.*\+\+|\+.*\+)$/;

function cleanWord(word: string): string | null {
  if (FILLER.test(word)) return null;
  return word.replace(/\(\d+\)$/, '');
}

function cleanTranscript(hyp: string | null): string {
  if (!hyp) return '';
  return hyp
    .split(/\s+/)
    .map((w) => (w ? cleanWord(w) : null))
    .filter((w): w is string => !!w)
    .join(' ');
}

/** Words a JSGF grammar may produce, roughly: tokens outside `<rule>` names, tags, weights and the header. */
function grammarWords(jsgf: string): string[] {
  const body = jsgf
    .replace(/\/\/.*$/gm, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*(#JSGF|grammar|import)[^;]*;/gm, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\/[^/]*\//g, ' ')
    .replace(/\bpublic\b/g, ' ');
  const words = body.split(/[\s=;|()[\]*+"]+/).filter((w) => w.length > 0);
  return [...new Set(words.map((w) => w.toLowerCase()))];
}

/** A warm PocketSphinx decoder with a session/utterance state machine. Not thread-safe; one per worker. */
export class PocketSphinxDecoder {
  private readonly lib: PocketSphinxLibrary;
  private readonly ps: NativePointer;
  private readonly logmath: NativePointer;
  private readonly defaultSearch: string;
  /** Live-CMN state and the warm mean restored at every session start, so results never depend on earlier callers. */
  private readonly cmn: { ptr: NativePointer; prior: Float32Array } | null;
  /** The light search for measuring a caller's cepstral mean, or null when the dictionary lacks its word. */
  private readonly cmnSearch: string | null;
  private config: Required<Omit<SessionConfig, 'grammarJsgf' | 'phrases'>> = { maxAlternatives: 1, interimResults: false, measureCmn: false };
  private grammarSet = false;
  private active = false;
  private uttStarted = false;
  private samplesSeen = 0;

  /** Loads libraries and model (about 0.5 s). Throws {@link RecognizerUnavailableError} naming the Debian package. */
  constructor(options: DecoderOptions = {}) {
    const modelDir = options.modelDir ?? DEFAULT_MODEL_DIR;
    this.lib = loadPocketSphinxLibrary(options.libraries);
    checkModel(modelDir);
    this.lib.silenceLog();
    const f = modelFiles(modelDir);
    const postSpeechFrames = Math.max(1, Math.round((options.endSilenceMs ?? 500) / MS_PER_FRAME));
    const argv = [
      '-hmm',
      f.hmm,
      '-lm',
      f.lm,
      '-dict',
      f.dict,
      '-frate',
      String(FRAME_RATE),
      '-samprate',
      String(DECODER_SAMPLE_RATE_HZ),
      '-vad_postspeech',
      String(postSpeechFrames),
    ];
    const cfg = this.lib.cmdLnParse(argv);
    if (cfg === 0n) throw new RecognizerUnavailableError('PocketSphinx rejected its configuration');
    this.ps = this.lib.psInit(cfg);
    if (this.ps === 0n) {
      throw new RecognizerUnavailableError(
        `PocketSphinx could not load the model from ${modelDir}; reinstall it with: apt-get install --reinstall ${POCKETSPHINX_PACKAGES}`,
      );
    }
    this.logmath = this.lib.psGetLogmath(this.ps);
    this.defaultSearch = this.lib.psGetSearch(this.ps) ?? '_default';
    this.cmn = this.captureCmn(options.cmnPrior ?? findCmnPrior(f.hmm, DECODER_SAMPLE_RATE_HZ));
    this.cmnSearch = this.lib.psSetJsgfString(this.ps, CMN_SEARCH, CMN_SEARCH_JSGF) >= 0 ? CMN_SEARCH : null;
  }

  private captureCmn(prior: ArrayLike<number> | undefined): { ptr: NativePointer; prior: Float32Array } | null {
    const feat = this.lib.psGetFeat(this.ps);
    if (feat === 0n) return null;
    const head = this.lib.featHead(feat);
    // A sanity check on the struct layout we assumed: the en-us model has 13 cepstra. If it does not hold, skip resets.
    if (head.cmnStruct === 0n || head.cepsize < 1 || head.cepsize > 64) return null;
    if (prior && prior.length === head.cepsize) return { ptr: head.cmnStruct, prior: Float32Array.from(prior) };
    const own = new Float32Array(head.cepsize);
    this.lib.cmnLiveGet(head.cmnStruct, own);
    return { ptr: head.cmnStruct, prior: own };
  }

  /** The warm cepstral mean sessions start from (a copy). */
  get cmnPrior(): Float32Array | null {
    return this.cmn ? Float32Array.from(this.cmn.prior) : null;
  }

  /**
   * Measures the cepstral mean of `samples` (16 kHz) the way a recognition of them would see it, starting from the warm
   * mean with a light weight. Runs outside any session, on a one-word search; returns null when there is no live-CMN
   * state or `shouldAbort` said stop. Used for unary recognition and by scripts/estimate-cmn-prior.ts.
   */
  measureCepstralMean(samples: Int16Array, shouldAbort: () => boolean = () => false): Float32Array | null {
    if (this.active) throw new Error('decoder: measureCepstralMean() inside a session');
    return this.measureMean(samples, shouldAbort);
  }

  private measureMean(samples: Int16Array, shouldAbort: () => boolean): Float32Array | null {
    if (!this.cmn) return null;
    const search = this.lib.psGetSearch(this.ps);
    if (this.cmnSearch) this.lib.psSetSearch(this.ps, this.cmnSearch);
    this.lib.cmnSetPrior(this.cmn.ptr, this.cmn.prior, CMN_MEASURE_WEIGHT_FRAMES);
    this.lib.psStartStream(this.ps);
    this.lib.psStartUtt(this.ps);
    let aborted = false;
    for (let i = 0; i < samples.length; i += BLOCK_SAMPLES) {
      if (shouldAbort()) {
        aborted = true;
        break;
      }
      const block = samples.subarray(i, Math.min(samples.length, i + BLOCK_SAMPLES));
      this.lib.psProcessRaw(this.ps, block, block.length, 0, 0);
    }
    // Ending the utterance is what makes PocketSphinx fold the frames' sum into its mean.
    this.lib.psEndUtt(this.ps);
    if (search) this.lib.psSetSearch(this.ps, search);
    if (aborted) return null;
    const mean = new Float32Array(this.cmn.prior.length);
    this.lib.cmnLiveGet(this.cmn.ptr, mean);
    return mean;
  }

  /** Words of `words` that the pronunciation dictionary lacks (case-insensitive). */
  missingWords(words: readonly string[]): string[] {
    return words.filter((w) => this.lib.psLookupWord(this.ps, w.toLowerCase()) === null);
  }

  /** Starts a session: a fresh stream at time 0, CMN reset, the session's search. Throws {@link RecognizerRequestError}. */
  begin(config: SessionConfig): void {
    if (this.active) this.reset();
    const phrases = config.phrases ?? [];
    const phraseWords = [...new Set(phrases.flatMap((p) => p.split(/\s+/)).filter((w) => w.length > 0))];
    const missing = this.missingWords(phraseWords);
    if (missing.length > 0) {
      throw new RecognizerRequestError(
        'config.speech_contexts',
        `speech_contexts has words the dictionary does not know: ${missing.slice(0, 10).join(', ')}`,
      );
    }
    if (config.grammarJsgf) {
      // The JSGF lexer echoes text it cannot match to stdout; refuse what is plainly not JSGF before it sees it.
      if (!/^\s*#JSGF\b/.test(config.grammarJsgf) || !/\bpublic\s*</.test(config.grammarJsgf)) {
        throw new RecognizerRequestError('config.grammar_jsgf', 'grammar_jsgf must start with a "#JSGF V1.0;" header and declare a public rule');
      }
      if (this.lib.psSetJsgfString(this.ps, GRAMMAR_SEARCH, config.grammarJsgf) < 0) {
        const unknown = this.missingWords(grammarWords(config.grammarJsgf));
        throw new RecognizerRequestError(
          'config.grammar_jsgf',
          unknown.length > 0
            ? `grammar_jsgf uses words the dictionary does not know: ${unknown.slice(0, 10).join(', ')}`
            : 'grammar_jsgf could not be compiled; check its JSGF syntax and that it has a public rule',
        );
      }
      this.grammarSet = true;
      this.lib.psSetSearch(this.ps, GRAMMAR_SEARCH);
    }
    this.config = {
      maxAlternatives: Math.min(10, Math.max(1, config.maxAlternatives ?? 1)),
      interimResults: config.interimResults ?? false,
      measureCmn: config.measureCmn ?? false,
    };
    // Every session starts from the same warm mean: nothing of an earlier caller's audio carries over.
    if (this.cmn) this.lib.cmnSetPrior(this.cmn.ptr, this.cmn.prior, CMN_PRIOR_WEIGHT_FRAMES);
    this.lib.psStartStream(this.ps);
    this.lib.psStartUtt(this.ps);
    this.active = true;
    this.uttStarted = false;
    this.samplesSeen = 0;
  }

  /**
   * Feeds 16 kHz samples. Between blocks it calls `shouldAbort`; when that returns true it stops and reports
   * `aborted` (the caller then resets). Utterances that end inside the samples come back as finals.
   */
  process(samples: Int16Array, shouldAbort: () => boolean = () => false): ProcessOutcome & { aborted: boolean } {
    if (!this.active) throw new Error('decoder: process() outside a session');
    const t0 = performance.now();
    const finals: UtteranceResult[] = [];
    let inSpeech = false;
    if (this.config.measureCmn && this.samplesSeen === 0 && samples.length > 0 && this.cmn) {
      // The whole audio is here (unary recognition): normalise it by its own mean, as the model was trained
      // (`-cmn batch` in its feat.params), instead of by a mean that only adapts after seconds of speech.
      this.lib.psEndUtt(this.ps); // the empty utterance begin() opened
      const mean = this.measureMean(samples, shouldAbort);
      this.lib.cmnSetPrior(this.cmn.ptr, mean ?? this.cmn.prior, CMN_PRIOR_WEIGHT_FRAMES);
      this.lib.psStartStream(this.ps);
      this.lib.psStartUtt(this.ps);
      if (!mean) return { inSpeech, finals, decodeMs: performance.now() - t0, aborted: true };
    }
    for (let i = 0; i < samples.length; i += BLOCK_SAMPLES) {
      if (shouldAbort()) return { inSpeech, finals, decodeMs: performance.now() - t0, aborted: true };
      const block = samples.subarray(i, Math.min(samples.length, i + BLOCK_SAMPLES));
      this.lib.psProcessRaw(this.ps, block, block.length, 0, 0);
      // Streaming: adapt the mean to this caller's audio block by block, not only at utterance ends or every 8 s.
      if (this.cmn && !this.config.measureCmn) this.lib.cmnLiveUpdate(this.cmn.ptr);
      this.samplesSeen += block.length;
      inSpeech = this.lib.psGetInSpeech(this.ps) !== 0;
      if (inSpeech && !this.uttStarted) this.uttStarted = true;
      if (!inSpeech && this.uttStarted) {
        const r = this.endUtterance();
        if (r) finals.push(r);
        this.lib.psStartUtt(this.ps);
        this.uttStarted = false;
      }
    }
    let interim: string | undefined;
    if (this.config.interimResults && this.uttStarted) {
      const hyp = cleanTranscript(this.lib.psGetHyp(this.ps));
      if (hyp) interim = hyp;
    }
    return { interim, inSpeech, finals, decodeMs: performance.now() - t0, aborted: false };
  }

  /** Ends the audio: closes the utterance in progress and returns its result (none when no speech was heard). */
  finish(): { finals: UtteranceResult[]; decodeMs: number } {
    if (!this.active) throw new Error('decoder: finish() outside a session');
    const t0 = performance.now();
    const finals: UtteranceResult[] = [];
    if (this.uttStarted) {
      const r = this.endUtterance();
      if (r) finals.push(r);
    } else {
      this.lib.psEndUtt(this.ps);
    }
    this.uttStarted = false;
    this.active = false;
    this.restoreSearch();
    return { finals, decodeMs: performance.now() - t0 };
  }

  /** Abandons the session in progress, if any, and puts the decoder back to its idle state. */
  reset(): void {
    if (this.active) {
      this.lib.psEndUtt(this.ps);
      this.active = false;
      this.uttStarted = false;
    }
    this.restoreSearch();
  }

  /** Frees the native decoder. */
  close(): void {
    this.reset();
    this.lib.psFree(this.ps);
  }

  private restoreSearch(): void {
    if (!this.grammarSet) return;
    this.lib.psSetSearch(this.ps, this.defaultSearch);
    this.lib.psUnsetSearch(this.ps, GRAMMAR_SEARCH);
    this.grammarSet = false;
  }

  /** Ends the current utterance and reads its best hypothesis, word times, posteriors and n-best list. */
  private endUtterance(): UtteranceResult | null {
    this.lib.psEndUtt(this.ps);
    const best = cleanTranscript(this.lib.psGetHyp(this.ps));
    const words: RecognizedWord[] = [];
    let uttStart = Number.POSITIVE_INFINITY;
    let uttEnd = 0;
    for (let seg = this.lib.psSegIter(this.ps); seg !== 0n; seg = this.lib.psSegNext(seg)) {
      const [sf, ef] = this.lib.psSegFrames(seg);
      uttStart = Math.min(uttStart, sf * MS_PER_FRAME);
      uttEnd = Math.max(uttEnd, (ef + 1) * MS_PER_FRAME);
      const word = cleanWord(this.lib.psSegWord(seg));
      if (word === null) continue;
      const confidence = Math.min(1, Math.max(0, this.lib.logmathExp(this.logmath, this.lib.psSegProb(seg))));
      words.push({ word, startMs: sf * MS_PER_FRAME, endMs: (ef + 1) * MS_PER_FRAME, confidence });
    }
    if (!Number.isFinite(uttStart)) uttStart = 0;
    const confidence = words.length > 0 ? words.reduce((s, w) => s + w.confidence, 0) / words.length : 0;
    const alternatives = this.config.maxAlternatives > 1 ? this.nbest(best) : [];
    return { transcript: best, confidence, words, alternatives, startMs: uttStart, endMs: uttEnd };
  }

  private nbest(best: string): RecognitionAlternative[] {
    const out: RecognitionAlternative[] = [];
    const seen = new Set<string>([best]);
    let it = this.lib.psNbest(this.ps);
    let walked = 0;
    while (it !== 0n) {
      if (out.length >= this.config.maxAlternatives - 1 || walked >= NBEST_WALK_MAX) {
        this.lib.psNbestFree(it);
        break;
      }
      walked += 1;
      const transcript = cleanTranscript(this.lib.psNbestHyp(it).hyp);
      if (!seen.has(transcript)) {
        seen.add(transcript);
        const words: RecognizedWord[] = [];
        for (let seg = this.lib.psNbestSeg(it); seg !== 0n; seg = this.lib.psSegNext(seg)) {
          const word = cleanWord(this.lib.psSegWord(seg));
          if (word === null) continue;
          const [sf, ef] = this.lib.psSegFrames(seg);
          words.push({ word, startMs: sf * MS_PER_FRAME, endMs: (ef + 1) * MS_PER_FRAME, confidence: 0 });
        }
        out.push({ transcript, confidence: 0, words });
      }
      // ps_nbest_next frees the iterator itself when it returns NULL.
      it = this.lib.psNbestNext(it);
    }
    return out;
  }

  /** Samples fed since the session began. */
  get samplesProcessed(): number {
    return this.samplesSeen;
  }
}
