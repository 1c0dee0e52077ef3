import { keysFromJwks, type VerificationKey } from './verification-keys.js';

/** Options for {@link createJwksSource}. */
export interface JwksSourceOptions {
  /** The JWKS URL from configuration. The only URL ever fetched: token headers (`jku`, `x5u`) are never followed. */
  url: string;
  /** How often the set is refetched in the background, in ms. Default 300000 (5 min). */
  refreshIntervalMs?: number;
  /** Least time between two fetches triggered by unknown kids, in ms, so forged kids cannot make us hammer the issuer. Default 30000. */
  minRefetchIntervalMs?: number;
  /** Time limit for one fetch, in ms. Default 5000. */
  timeoutMs?: number;
  /** Largest accepted response body, in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** Fetch implementation (tests). Default the global fetch. */
  fetch?: typeof fetch;
  /** Clock in epoch ms (tests). Default Date.now. */
  nowMs?: () => number;
  /** Told about every failed fetch and every key skipped; messages carry no key material. */
  onProblem?: (message: string) => void;
}

/** A remote JWKS, cached in memory, refreshed on an interval and on demand. */
export interface JwksSource {
  /** The URL, for messages. */
  readonly url: string;
  /**
   * Starts the first fetch and the refresh timer. Resolves true once keys are
   * loaded, false when the first fetch failed (reported through onProblem;
   * the timer and unknown-kid refetches keep trying). Never rejects.
   */
  start(): Promise<boolean>;
  /** The keys of the last good fetch (empty before start). */
  keys(): readonly VerificationKey[];
  /**
   * Refetches because a token named a kid we do not have. Returns undefined
   * when the rate limit says not yet, else a promise that settles (never
   * rejects) once the fetch is done; concurrent callers share one fetch.
   */
  refetchForUnknownKid(): Promise<void> | undefined;
  /** Calls `listener` after each fetch that changed the key set. */
  onChange(listener: () => void): void;
  /** Stops the refresh timer. */
  close(): void;
}

/** Creates a JWKS source; nothing is fetched until `start()`. */
export function createJwksSource(options: JwksSourceOptions): JwksSource {
  const url = new URL(options.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`JWKS URL ${options.url} must be http or https`);
  const refreshIntervalMs = options.refreshIntervalMs ?? 300_000;
  const minRefetchIntervalMs = options.minRefetchIntervalMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const doFetch = options.fetch ?? fetch;
  const nowMs = options.nowMs ?? Date.now;
  const onProblem = options.onProblem ?? (() => {});
  const listeners: (() => void)[] = [];

  let current: readonly VerificationKey[] = [];
  let fingerprint = '';
  let lastFetchStartMs = -Infinity;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  /** One fetch; throws on failure, which fetchShared reports. */
  async function load(): Promise<void> {
    lastFetchStartMs = nowMs();
    const response = await doFetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      // A JWKS moving elsewhere is a configuration change, not something to follow silently.
      redirect: 'error',
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    if (!response.ok) throw new Error(`JWKS ${url.href}: HTTP ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > maxBytes) throw new Error(`JWKS ${url.href}: ${declared} bytes is over the ${maxBytes}-byte limit`);
    const body = await response.arrayBuffer();
    if (body.byteLength > maxBytes) throw new Error(`JWKS ${url.href}: ${body.byteLength} bytes is over the ${maxBytes}-byte limit`);
    let document: unknown;
    try {
      document = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch {
      throw new Error(`JWKS ${url.href}: response is not JSON`);
    }
    const { keys, problems } = keysFromJwks(document, `JWKS ${url.href}`);
    for (const problem of problems) onProblem(problem);
    if (keys.length === 0) throw new Error(`JWKS ${url.href}: no usable key`);
    // Refreshes that bring the same keys must not look like a change (that would empty the token cache).
    const next = keys
      .map((key) => `${key.kid} ${key.alg} ${JSON.stringify(key.key.export({ format: 'jwk' }))}`)
      .sort()
      .join('\n');
    if (next === fingerprint) return;
    fingerprint = next;
    current = Object.freeze(keys);
    for (const listener of listeners) listener();
  }

  function fetchShared(): Promise<void> {
    inFlight ??= load()
      .catch((error: Error) => onProblem(`${error.message}; keeping the ${current.length} keys from the last good fetch`))
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  return {
    url: url.href,
    start() {
      timer ??= setInterval(() => void fetchShared(), refreshIntervalMs);
      timer.unref();
      // Calls naming a kid before the first fetch ends wait on this same fetch (refetchForUnknownKid).
      return fetchShared().then(() => current.length > 0);
    },
    keys: () => current,
    refetchForUnknownKid() {
      if (inFlight) return inFlight;
      if (nowMs() - lastFetchStartMs < minRefetchIntervalMs) return undefined;
      return fetchShared();
    },
    onChange(listener) {
      listeners.push(listener);
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
