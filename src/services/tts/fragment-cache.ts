/**
 * A bounded LRU of synthesised template fragments. Entries are keyed by everything that changes the audio (voice,
 * rate, pitch, text) and hold samples at the voice's natural rate; output encoding, rate and gain are applied after
 * splicing, so one entry serves every audio config. Concurrent misses for the same key share one synthesis.
 */

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
  private readonly entries = new Map<string, T>();
  private readonly pending = new Map<string, Promise<T>>();
  private bytes = 0;

  /** @param options see `FragmentCacheOptions` */
  constructor(private readonly options: FragmentCacheOptions) {}

  /** Key for a fragment; everything that changes the synthesised audio must be in it. */
  static key(voiceName: string, speakingRate: number, pitchSemitones: number, text: string): string {
    return JSON.stringify([voiceName, speakingRate, pitchSemitones, text]);
  }

  /**
   * Returns the cached samples for `key`, or runs `synthesize` (once, even for concurrent callers) and keeps the
   * result. A failed synthesis is not cached.
   */
  async get(key: string, synthesize: () => Promise<T>): Promise<{ fragment: T; outcome: CacheOutcome }> {
    const hit = this.entries.get(key);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order, so re-inserting moves it to the young end.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return { fragment: hit, outcome: 'hit' };
    }
    let flight = this.pending.get(key);
    if (!flight) {
      flight = synthesize().then((fragment) => {
        this.store(key, fragment);
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
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private store(key: string, fragment: T): void {
    const size = fragment.samples.byteLength;
    if (this.options.maxEntries === 0 || size > this.options.maxBytes) return;
    this.entries.set(key, fragment);
    this.bytes += size;
    for (const [oldKey, old] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= old.samples.byteLength;
    }
  }
}
