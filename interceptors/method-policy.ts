/**
 * Per-method settings from config, keyed by `package.Service/Method` or
 * `package.Service` (a leading `/` is accepted). The most specific key wins;
 * fields it leaves out come from the service entry, then from the defaults.
 */
export type MethodOverrides<T> = Readonly<Record<string, Partial<T> | undefined>>;

/** Resolves a method's settings: defaults, then the service entry, then the method entry, field by field. */
export function resolveMethodSettings<T extends object>(path: string, defaults: T, overrides: MethodOverrides<T> | undefined): T {
  if (!overrides) return defaults;
  const bare = path.startsWith('/') ? path.slice(1) : path;
  const service = bare.slice(0, Math.max(bare.lastIndexOf('/'), 0));
  let resolved: T = defaults;
  for (const key of [service, `/${service}`, bare, `/${bare}`]) {
    const entry = overrides[key];
    if (entry === undefined) continue;
    resolved = { ...resolved, ...stripUndefined(entry) };
  }
  return resolved;
}

function stripUndefined<T extends object>(entry: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined)) as Partial<T>;
}
