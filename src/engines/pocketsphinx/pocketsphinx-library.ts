/**
 * FFI bindings to Debian's PocketSphinx 5prealpha (`libpocketsphinx.so.3`) and SphinxBase (`libsphinxbase.so.3`)
 * through koffi. Only the calls the decoder needs are bound; signatures follow the 5prealpha headers
 * (`pocketsphinx.h`, `ps_search.h`, `sphinxbase/cmn.h`, `sphinxbase/feat.h`). Pointers are koffi 3 BigInts.
 */

import koffi, { type LibraryHandle } from 'koffi';

import { RecognizerUnavailableError } from './recognizer-errors.js';

/** Debian packages that provide the runtime libraries and the model. */
export const POCKETSPHINX_PACKAGES = 'libpocketsphinx3 pocketsphinx-en-us';

/** Shared-object names or paths to load; the defaults are the Debian sonames. */
export interface PocketSphinxLibraryPaths {
  /** PocketSphinx library; default `libpocketsphinx.so.3`. */
  pocketsphinx?: string;
  /** SphinxBase library; default `libsphinxbase.so.3`. */
  sphinxbase?: string;
}

/** A native pointer as koffi 3 returns it; 0n is NULL. */
export type NativePointer = bigint;

/** The bound native functions. */
export interface PocketSphinxLibrary {
  cmdLnParse(argv: string[]): NativePointer;
  cmdLnFree(config: NativePointer): void;
  psArgs(): NativePointer;
  psInit(config: NativePointer): NativePointer;
  psFree(ps: NativePointer): void;
  psStartStream(ps: NativePointer): number;
  psStartUtt(ps: NativePointer): number;
  psProcessRaw(ps: NativePointer, samples: Int16Array, count: number, noSearch: number, fullUtt: number): number;
  psEndUtt(ps: NativePointer): number;
  psGetHyp(ps: NativePointer): string | null;
  psGetInSpeech(ps: NativePointer): number;
  psGetLogmath(ps: NativePointer): NativePointer;
  psGetFeat(ps: NativePointer): NativePointer;
  psSegIter(ps: NativePointer): NativePointer;
  psSegNext(seg: NativePointer): NativePointer;
  psSegWord(seg: NativePointer): string;
  psSegFrames(seg: NativePointer): [number, number];
  psSegProb(seg: NativePointer): number;
  psSegFree(seg: NativePointer): void;
  psNbest(ps: NativePointer): NativePointer;
  psNbestNext(nbest: NativePointer): NativePointer;
  psNbestHyp(nbest: NativePointer): { hyp: string | null; score: number };
  psNbestSeg(nbest: NativePointer): NativePointer;
  psNbestFree(nbest: NativePointer): void;
  /** Returns the phones of `word`, or null when the dictionary does not have it. */
  psLookupWord(ps: NativePointer, word: string): string | null;
  psSetJsgfString(ps: NativePointer, name: string, jsgf: string): number;
  psSetSearch(ps: NativePointer, name: string): number;
  psGetSearch(ps: NativePointer): string | null;
  psUnsetSearch(ps: NativePointer, name: string): number;
  logmathExp(logmath: NativePointer, logValue: number): number;
  /** Reads the feature computation's cepstral size and live-CMN state pointer (see feat.h). */
  featHead(feat: NativePointer): { cepsize: number; cmnStruct: NativePointer };
  cmnLiveGet(cmn: NativePointer, out: Float32Array): void;
  cmnLiveSet(cmn: NativePointer, vec: Float32Array): void;
  /** Folds the frames seen so far into the live-CMN mean now (PocketSphinx does it at utterance ends and every 8 s). */
  cmnLiveUpdate(cmn: NativePointer): void;
  /**
   * Sets the live-CMN mean to `vec` with the weight of `weightFrames` frames of audio (cmn_live_set always uses 500):
   * a light weight lets the next utterance's own frames decide the mean. Writes the fields of `cmn_t` (sphinxbase/cmn.h).
   */
  cmnSetPrior(cmn: NativePointer, vec: Float32Array, weightFrames: number): void;
  /** Turns SphinxBase's logging to stderr off for the whole process. */
  silenceLog(): void;
}

function loadOne(path: string, pkg: string): LibraryHandle {
  try {
    return koffi.load(path);
  } catch (err) {
    throw new RecognizerUnavailableError(`speech recognition library ${path} could not be loaded; install it with: apt-get install ${pkg}`, err);
  }
}

/**
 * Loads and binds both libraries. Throws {@link RecognizerUnavailableError} naming the Debian package when a library
 * or symbol is missing. Call once per thread (koffi handles are per isolate).
 */
export function loadPocketSphinxLibrary(paths: PocketSphinxLibraryPaths = {}): PocketSphinxLibrary {
  const sb = loadOne(paths.sphinxbase ?? 'libsphinxbase.so.3', 'libsphinxbase3 libpocketsphinx3');
  const ps = loadOne(paths.pocketsphinx ?? 'libpocketsphinx.so.3', 'libpocketsphinx3');
  try {
    // Layout of the head of struct feat_s in sphinxbase/feat.h (5prealpha), up to cmn_struct; koffi applies C alignment.
    const FeatHead = koffi.struct({
      refcount: 'int',
      name: 'void *',
      cepsize: 'int32_t',
      n_stream: 'int32_t',
      stream_len: 'void *',
      window_size: 'int32_t',
      n_sv: 'int32_t',
      sv_len: 'void *',
      subvecs: 'void *',
      sv_buf: 'void *',
      sv_dim: 'int32_t',
      cmn: 'int',
      varnorm: 'int32_t',
      agc: 'int',
      compute_feat: 'void *',
      cmn_struct: 'void *',
    });
    // struct cmn_t in sphinxbase/cmn.h (5prealpha): the live mean, variance, running sum and its frame count.
    const CmnStruct = koffi.struct('gatehouse_cmn_t', { cmn_mean: 'void *', cmn_var: 'void *', sum: 'void *', nframe: 'int32_t', veclen: 'int32_t' });
    const cmnNframeOffset = koffi.offsetof(CmnStruct, 'nframe');
    const cmdLnParse = sb.func('void *cmd_ln_parse_r(void *inout, void *defn, int32_t argc, const char **argv, int32_t strict)');
    const cmdLnFree = sb.func('int cmd_ln_free_r(void *cmdln)');
    const errSetLogfp = sb.func('void err_set_logfp(void *fp)');
    const logmathExp = sb.func('double logmath_exp(void *lmath, int32_t logb_p)');
    const cmnLiveGet = sb.func('void cmn_live_get(void *cmn, _Out_ float *vec)');
    const cmnLiveSet = sb.func('void cmn_live_set(void *cmn, const float *vec)');
    const cmnLiveUpdate = sb.func('void cmn_live_update(void *cmn)');
    const ckdFree = sb.func('void ckd_free(void *ptr)');
    const psArgs = ps.func('void *ps_args()');
    const psInit = ps.func('void *ps_init(void *config)');
    const psFree = ps.func('int ps_free(void *ps)');
    const psStartStream = ps.func('int ps_start_stream(void *ps)');
    const psStartUtt = ps.func('int ps_start_utt(void *ps)');
    const psProcessRaw = ps.func('int ps_process_raw(void *ps, const int16_t *data, size_t n_samples, int no_search, int full_utt)');
    const psEndUtt = ps.func('int ps_end_utt(void *ps)');
    const psGetHyp = ps.func('const char *ps_get_hyp(void *ps, void *out_best_score)');
    const psGetInSpeech = ps.func('uint8_t ps_get_in_speech(void *ps)');
    const psGetLogmath = ps.func('void *ps_get_logmath(void *ps)');
    const psGetFeat = ps.func('void *ps_get_feat(void *ps)');
    const psSegIter = ps.func('void *ps_seg_iter(void *ps)');
    const psSegNext = ps.func('void *ps_seg_next(void *seg)');
    const psSegWord = ps.func('const char *ps_seg_word(void *seg)');
    const psSegFrames = ps.func('void ps_seg_frames(void *seg, _Out_ int *out_sf, _Out_ int *out_ef)');
    const psSegProb = ps.func('int32_t ps_seg_prob(void *seg, _Out_ int32_t *ascr, _Out_ int32_t *lscr, _Out_ int32_t *lback)');
    const psSegFree = ps.func('void ps_seg_free(void *seg)');
    const psNbest = ps.func('void *ps_nbest(void *ps)');
    const psNbestNext = ps.func('void *ps_nbest_next(void *nbest)');
    const psNbestHyp = ps.func('const char *ps_nbest_hyp(void *nbest, _Out_ int32_t *out_score)');
    const psNbestSeg = ps.func('void *ps_nbest_seg(void *nbest)');
    const psNbestFree = ps.func('void ps_nbest_free(void *nbest)');
    const psLookupWord = ps.func('void *ps_lookup_word(void *ps, const char *word)');
    const psSetJsgfString = ps.func('int ps_set_jsgf_string(void *ps, const char *name, const char *jsgf_string)');
    const psSetSearch = ps.func('int ps_set_search(void *ps, const char *name)');
    const psGetSearch = ps.func('const char *ps_get_search(void *ps)');
    const psUnsetSearch = ps.func('int ps_unset_search(void *ps, const char *name)');
    const p = (v: unknown): NativePointer => (typeof v === 'bigint' ? v : 0n);
    return {
      cmdLnParse: (argv) => p(cmdLnParse(null, psArgs(), argv.length, argv, 1)),
      cmdLnFree: (c) => void cmdLnFree(c),
      psArgs: () => p(psArgs()),
      psInit: (c) => p(psInit(c)),
      psFree: (d) => void psFree(d),
      psStartStream: (d) => psStartStream(d),
      psStartUtt: (d) => psStartUtt(d),
      psProcessRaw: (d, s, n, ns, fu) => psProcessRaw(d, s, n, ns, fu),
      psEndUtt: (d) => psEndUtt(d),
      psGetHyp: (d) => psGetHyp(d, null),
      psGetInSpeech: (d) => psGetInSpeech(d),
      psGetLogmath: (d) => p(psGetLogmath(d)),
      psGetFeat: (d) => p(psGetFeat(d)),
      psSegIter: (d) => p(psSegIter(d)),
      psSegNext: (s) => p(psSegNext(s)),
      psSegWord: (s) => psSegWord(s) ?? '',
      psSegFrames: (s) => {
        const sf = [0];
        const ef = [0];
        psSegFrames(s, sf, ef);
        return [sf[0]!, ef[0]!];
      },
      psSegProb: (s) => psSegProb(s, [0], [0], [0]),
      psSegFree: (s) => void psSegFree(s),
      psNbest: (d) => p(psNbest(d)),
      psNbestNext: (n) => p(psNbestNext(n)),
      psNbestHyp: (n) => {
        const score = [0];
        const hyp = psNbestHyp(n, score);
        return { hyp, score: score[0]! };
      },
      psNbestSeg: (n) => p(psNbestSeg(n)),
      psNbestFree: (n) => void psNbestFree(n),
      psLookupWord: (d, w) => {
        const ptr = p(psLookupWord(d, w));
        if (ptr === 0n) return null;
        const phones = koffi.decode(ptr, 'char', -1) as string;
        ckdFree(ptr);
        return phones;
      },
      psSetJsgfString: (d, n, g) => psSetJsgfString(d, n, g),
      psSetSearch: (d, n) => psSetSearch(d, n),
      psGetSearch: (d) => psGetSearch(d),
      psUnsetSearch: (d, n) => psUnsetSearch(d, n),
      logmathExp: (l, v) => logmathExp(l, v),
      featHead: (f) => {
        const head = koffi.decode(f, FeatHead) as { cepsize: number; cmn_struct: unknown };
        return { cepsize: head.cepsize, cmnStruct: p(head.cmn_struct) };
      },
      cmnLiveGet: (c, out) => void cmnLiveGet(c, out),
      cmnLiveSet: (c, v) => void cmnLiveSet(c, v),
      cmnLiveUpdate: (c) => void cmnLiveUpdate(c),
      cmnSetPrior: (c, v, w) => {
        const head = koffi.decode(c, CmnStruct) as { cmn_mean: unknown; sum: unknown; veclen: number };
        if (head.veclen !== v.length) throw new Error(`cmn_t has ${head.veclen} coefficients, the prior ${v.length}`);
        const vector = koffi.array('float', v.length);
        koffi.encode(p(head.cmn_mean), vector, Array.from(v));
        koffi.encode(
          p(head.sum),
          vector,
          Array.from(v, (x) => x * w),
        );
        koffi.encode(c, cmnNframeOffset, 'int32_t', w);
      },
      silenceLog: () => void errSetLogfp(null),
    };
  } catch (err) {
    if (err instanceof RecognizerUnavailableError) throw err;
    throw new RecognizerUnavailableError(
      `the installed PocketSphinx library lacks a needed function; install the Debian 0.8+5prealpha build with: apt-get install ${POCKETSPHINX_PACKAGES}`,
      err,
    );
  }
}
