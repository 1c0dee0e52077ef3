/**
 * A bounded map from a token string to what verifying it produced, each entry
 * good until its own expiry. Eviction is oldest-inserted first: hits do not
 * reorder, so a hit costs one Map lookup and one comparison.
 *
 * A client sends the same token on call after call of one connection, and a
 * Map lookup must hash the whole token (about 1.5 us for a 800-character JWT,
 * measured): with the connection given, the entry its last call used is
 * tried first, which costs one string comparison.
 */
export interface TokenCache<V> {
  /**
   * The value when present and `nowSec` is before its expiry; an expired entry
   * is dropped. `connection` is an opaque per-connection key (held weakly).
   */
  get(token: string, nowSec: number, connection?: object): V | undefined;
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
  /** False once evicted, expired or cleared: a connection's memo of it no longer counts. */
  live: boolean;
}

/** The entry a connection's last call used, with the token it was found by. */
interface Recent<V> {
  token: string;
  entry: Entry<V>;
}

/** Creates a cache of at most `maxEntries` tokens; 0 disables caching. */
export function createTokenCache<V>(maxEntries: number): TokenCache<V> {
  const entries = new Map<string, Entry<V>>();
  const recent = new WeakMap<object, Recent<V>>();
  const drop = (token: string): void => {
    const entry = entries.get(token);
    if (entry === undefined) return;
    entry.live = false;
    entries.delete(token);
  };
  return {
    get(token, nowSec, connection) {
      const last = connection === undefined ? undefined : recent.get(connection);
      if (last?.entry.live && last.token === token && nowSec < last.entry.validUntilSec) return last.entry.value;
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      if (nowSec < entry.validUntilSec) {
        if (connection !== undefined) {
          if (last === undefined) recent.set(connection, { token, entry });
          else {
            last.token = token;
            last.entry = entry;
          }
        }
        return entry.value;
      }
      drop(token);
      return undefined;
    },
    set(token, value, validUntilSec) {
      if (maxEntries <= 0) return;
      if (entries.size >= maxEntries && !entries.has(token)) {
        const oldest = entries.keys().next();
        if (!oldest.done) drop(oldest.value);
      }
      drop(token);
      entries.set(token, { value, validUntilSec, live: true });
    },
    clear() {
      for (const entry of entries.values()) entry.live = false;
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
