/**
 * A bounded LRU of synthesised template fragments. Entries are keyed by everything that changes the audio (voice,
 * rate, pitch, text) and hold samples at the voice's natural rate; output encoding, rate and gain are applied after
 * splicing, so one entry serves every audio config. Concurrent misses for the same key share one synthesis.
 * The LRU itself (recency, the entry and byte bounds) is the `lru-cache` package.
 */
import { LRUCache } from 'lru-cache';

/** A cached fragment: its samples and whatever was precomputed about them. */
export interface CachedFragment {
  /** Samples at the voice's natural rate. */
  samples: Int16Array;
}

/** Limits of a `FragmentCache`. */
export interface FragmentCacheOptions {
  /** Most entries kept; 0 disables caching. */
  maxEntries: number;
  /** Most audio kept, in bytes (2 per sample). */
  maxBytes: number;
}

/** Whether a lookup was served from the cache. */
export type CacheOutcome = 'hit' | 'miss';

/** See the module comment. */
export class FragmentCache<T extends CachedFragment = CachedFragment> {
  /** Recency and both bounds are lru-cache's; undefined when caching is off (`maxEntries` 0). */
  private readonly entries: LRUCache<string, T> | undefined;
  private readonly pending = new Map<string, Promise<T>>();

  /** @param options see `FragmentCacheOptions` */
  constructor(options: FragmentCacheOptions) {
    this.entries =
      options.maxEntries === 0
        ? undefined
        : new LRUCache<string, T>({
            max: options.maxEntries,
            maxSize: options.maxBytes,
            // lru-cache wants a positive size; an empty fragment still takes an entry. A fragment larger than maxSize
            // is not stored at all.
            sizeCalculation: (fragment) => Math.max(1, fragment.samples.byteLength),
          });
  }

  /** Key for a fragment; everything that changes the synthesised audio must be in it. */
  static key(voiceName: string, speakingRate: number, pitchSemitones: number, text: string): string {
    return JSON.stringify([voiceName, speakingRate, pitchSemitones, text]);
  }

  /**
   * Returns the cached samples for `key`, or runs `synthesize` (once, even for concurrent callers) and keeps the
   * result. A failed synthesis is not cached.
   */
  async get(key: string, synthesize: () => Promise<T>): Promise<{ fragment: T; outcome: CacheOutcome }> {
    const hit = this.entries?.get(key);
    if (hit) return { fragment: hit, outcome: 'hit' };
    let flight = this.pending.get(key);
    if (!flight) {
      flight = synthesize().then((fragment) => {
        this.entries?.set(key, fragment);
        return fragment;
      });
      this.pending.set(key, flight);
      const clear = () => this.pending.delete(key);
      flight.then(clear, clear);
    }
    return { fragment: await flight, outcome: 'miss' };
  }

  /** Entries and bytes held now. */
  size(): { entries: number; bytes: number } {
    return { entries: this.entries?.size ?? 0, bytes: this.entries?.calculatedSize ?? 0 };
  }
}
