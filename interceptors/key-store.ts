import type { JwksSource } from './jwks-source.js';
import type { VerificationKey } from './verification-keys.js';

/** Options for {@link createKeyStore}. */
export interface KeyStoreOptions {
  /** Keys fixed at start: HMAC secrets, PEM public keys, JWKS files. A kid may appear once. */
  keys?: readonly VerificationKey[];
  /** Remote key sets, already started. Their keys join the store; a kid already taken by a fixed key is skipped. */
  jwks?: readonly JwksSource[];
  /** Told when a remote key is skipped for a duplicate kid. */
  onProblem?: (message: string) => void;
}

/**
 * The loaded verification keys, by kid. A token's kid is only ever looked up
 * here: nothing a token says can add a key or point to one elsewhere.
 */
export interface KeyStore {
  /** The key with this kid, if loaded. */
  get(kid: string): VerificationKey | undefined;
  /** The key when exactly one is loaded (tokens without a kid are accepted only then). */
  only(): VerificationKey | undefined;
  /** How many keys are loaded. */
  readonly size: number;
  /** Bumped whenever the key set changes, so caches of verified tokens know to empty themselves. */
  readonly version: number;
  /** Asks remote sources to refetch for an unknown kid; undefined when none may fetch now (rate limit, or no remote source). */
  refetchForUnknownKid(): Promise<void> | undefined;
}

/** Builds the store; throws when two fixed keys share a kid. */
export function createKeyStore(options: KeyStoreOptions): KeyStore {
  const fixed = new Map<string, VerificationKey>();
  for (const key of options.keys ?? []) {
    const previous = fixed.get(key.kid);
    if (previous) throw new Error(`kid ${key.kid} is configured twice (${previous.source} and ${key.source})`);
    fixed.set(key.kid, key);
  }
  const sources = options.jwks ?? [];
  const onProblem = options.onProblem ?? (() => {});
  let byKid: ReadonlyMap<string, VerificationKey> = fixed;
  let single: VerificationKey | undefined;
  let version = 0;

  function rebuild(): void {
    const merged = new Map(fixed);
    for (const source of sources) {
      for (const key of source.keys()) {
        const taken = merged.get(key.kid);
        if (taken) {
          if (taken !== key) onProblem(`${source.url}: kid ${key.kid} is already loaded from ${taken.source}; skipped`);
          continue;
        }
        merged.set(key.kid, key);
      }
    }
    byKid = merged;
    single = merged.size === 1 ? merged.values().next().value : undefined;
    version++;
  }
  rebuild();
  for (const source of sources) source.onChange(rebuild);

  return {
    get: (kid) => byKid.get(kid),
    only: () => single,
    get size() {
      return byKid.size;
    },
    get version() {
      return version;
    },
    refetchForUnknownKid() {
      const pending = sources.map((source) => source.refetchForUnknownKid()).filter((p) => p !== undefined);
      return pending.length === 0 ? undefined : Promise.all(pending).then(() => undefined);
    },
  };
}
