/**
 * A bounded map from a token string to what verifying it produced, each entry
 * good until its own expiry. Eviction is oldest-inserted first: hits do not
 * reorder, so a hit costs one Map lookup and one comparison.
 */
export interface TokenCache<V> {
  /** The value when present and `nowSec` is before its expiry; an expired entry is dropped. */
  get(token: string, nowSec: number): V | undefined;
  /** Stores a value until `validUntilSec`; evicts the oldest entry when full. */
  set(token: string, value: V, validUntilSec: number): void;
  /** Drops everything (the key set changed). */
  clear(): void;
  /** Entries held. */
  readonly size: number;
}

interface Entry<V> {
  value: V;
  validUntilSec: number;
}

/** Creates a cache of at most `maxEntries` tokens; 0 disables caching. */
export function createTokenCache<V>(maxEntries: number): TokenCache<V> {
  const entries = new Map<string, Entry<V>>();
  return {
    get(token, nowSec) {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      if (nowSec < entry.validUntilSec) return entry.value;
      entries.delete(token);
      return undefined;
    },
    set(token, value, validUntilSec) {
      if (maxEntries <= 0) return;
      if (entries.size >= maxEntries && !entries.has(token)) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(token, { value, validUntilSec });
    },
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}
