/** Decides whether a certificate identity is allowed. */
export type IdentityMatcher = (identity: string) => boolean;

/**
 * Compiles allow-list patterns for certificate identities
 * (`spiffe://gatehouse.dev/client/*`). `*` matches one or more characters
 * within one path segment (no `/`), `**` one or more path segments, `?` one
 * character other than `/`; every other character is literal. Neither
 * wildcard ever matches an empty segment (`a//b`, a trailing `/`, nothing at
 * all), which a SPIFFE ID cannot have. A pattern of just `**` admits every
 * identity. The whole identity must match. Exact patterns are looked up in a
 * Set, so the common case costs no regex.
 */
export function compileIdentityPatterns(patterns: readonly string[]): IdentityMatcher {
  const exact = new Set<string>();
  const expressions: RegExp[] = [];
  for (const pattern of patterns) {
    if (pattern === '**') return () => true;
    if (!/[*?]/.test(pattern)) exact.add(pattern);
    else expressions.push(globToRegExp(pattern));
  }
  if (expressions.length === 0) return (identity) => exact.has(identity);
  const combined = new RegExp(expressions.map((e) => e.source).join('|'));
  return (identity) => exact.has(identity) || combined.test(identity);
}

/** One glob as an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '[^/]+(?:/[^/]+)*';
      i++;
    } else if (c === '*')
      source += '[^/]+'; // a SPIFFE path segment is never empty, so `*` is never nothing
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^(?:${source})$`);
}
