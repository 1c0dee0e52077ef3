/**
 * Pulls metric names out of PromQL expressions (alert rules, Grafana panels),
 * so a test can compare them with what the gateway really exports. A small
 * lexer, not a full parser: it knows enough of PromQL to tell a metric name
 * from a function, an aggregation, a keyword, a label or a duration.
 */

/** Aggregation operators: `sum by (x) (...)` must not read `sum` as a metric. */
const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);
/** Keywords followed by a parenthesised label list, which holds no metric names. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
/** Keywords that are never metric names. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);
/** Suffixes of a histogram's or summary's series. */
const SERIES_SUFFIXES = ['_bucket', '_sum', '_count'] as const;
/** Series Prometheus makes itself for every target; no exporter exports them. */
export const PROMETHEUS_SYNTHETIC_METRICS: ReadonlySet<string> = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'ALERTS',
  'ALERTS_FOR_STATE',
]);

type Token = { kind: 'ident'; text: string } | { kind: 'string'; text: string } | { kind: 'punct'; text: string } | { kind: 'number'; text: string };

/** Splits PromQL into tokens; strings keep their unquoted value, comments and whitespace are dropped. */
function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      let value = '';
      i++;
      while (i < expr.length && expr[i] !== c) {
        if (expr[i] === '\\' && c !== '`') i++;
        value += expr[i] ?? '';
        i++;
      }
      i++;
      tokens.push({ kind: 'string', text: value });
    } else if (c === '$') {
      // Grafana variables ($__rate_interval, ${namespace}) stand for a value, never a metric.
      i++;
      if (expr[i] === '{') {
        while (i < expr.length && expr[i] !== '}') i++;
        i++;
      } else {
        while (i < expr.length && /[A-Za-z0-9_]/.test(expr[i]!)) i++;
      }
      tokens.push({ kind: 'number', text: '0' });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(expr[i + 1] ?? ''))) {
      // Numbers, hex and durations (5m, 1h30m, 1e-3) in one token.
      const match = /^(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?[a-zA-Z0-9_]*)/.exec(expr.slice(i))!;
      tokens.push({ kind: 'number', text: match[0] });
      i += match[0].length;
    } else if (/[A-Za-z_:]/.test(c)) {
      const match = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i))!;
      tokens.push({ kind: 'ident', text: match[0] });
      i += match[0].length;
    } else {
      tokens.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

/** Index just past the bracket group that opens at `start` (`(`, `[` or `{`). */
function skipGroup(tokens: readonly Token[], start: number): number {
  const open = tokens[start]!.text;
  const close = open === '(' ? ')' : open === '[' ? ']' : '}';
  let depth = 0;
  for (let i = start; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind !== 'punct') continue;
    if (token.text === open) depth++;
    else if (token.text === close && --depth === 0) return i + 1;
  }
  return tokens.length;
}

/**
 * Metric names a PromQL expression selects, as written (`foo_bucket` stays
 * `foo_bucket`; see {@link exportedNameFor}). Includes `{__name__="..."}`
 * selectors. Unbalanced or unusual input yields a best effort, never a throw.
 */
export function metricNamesInPromQL(expr: string): Set<string> {
  const tokens = tokenize(expr);
  const names = new Set<string>();
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    const next = tokens[i + 1];
    if (token.kind === 'punct' && token.text === '{') {
      // Label matchers: only __name__ names a metric.
      const end = skipGroup(tokens, i);
      for (let j = i + 1; j < end - 2; j++) {
        const [label, op, value] = [tokens[j]!, tokens[j + 1]!, tokens[j + 2]!];
        if (label.kind === 'ident' && label.text === '__name__' && op.text === '=' && value.kind === 'string') {
          names.add(value.text);
        }
      }
      i = end;
    } else if (token.kind === 'punct' && token.text === '[') {
      i = skipGroup(tokens, i); // range or subquery durations
    } else if (token.kind === 'ident') {
      const word = token.text;
      const opensParen = next?.kind === 'punct' && next.text === '(';
      if (LABEL_LIST_KEYWORDS.has(word)) {
        i = opensParen ? skipGroup(tokens, i + 1) : i + 1;
      } else if (word === 'offset') {
        i += 2; // offset 5m
      } else if (KEYWORDS.has(word.toLowerCase())) {
        i++;
      } else if (opensParen) {
        i++; // a function call; its arguments are scanned in turn
      } else if (AGGREGATIONS.has(word) && next?.kind === 'ident' && LABEL_LIST_KEYWORDS.has(next.text)) {
        i++; // sum by (...) (...)
      } else {
        names.add(word);
        i++;
      }
    } else {
      i++;
    }
  }
  return names;
}

/**
 * Grafana template queries are not PromQL: `label_values(selector, label)` and
 * `query_result(expr)` wrap one; `label_values(label)`, `label_names()` and
 * `metrics(re)` select no metric. Returns the PromQL inside, or undefined.
 */
export function promqlInGrafanaVariableQuery(query: string): string | undefined {
  const trimmed = query.trim();
  const labelValues = /^label_values\(([\s\S]*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)$/.exec(trimmed);
  if (labelValues) return labelValues[1];
  if (/^(label_values|label_names|metrics)\(/.test(trimmed)) return undefined;
  const queryResult = /^query_result\(([\s\S]*)\)$/.exec(trimmed);
  if (queryResult) return queryResult[1];
  return trimmed;
}

/** One PromQL query found in a dashboard, with where it was found (for messages). */
export interface DashboardQuery {
  /** Panel title or `variable <name>`. */
  where: string;
  /** The PromQL expression, Grafana variables still in it. */
  expr: string;
}

/** Every PromQL query in a Grafana dashboard: panel targets (rows included) and query variables. */
export function dashboardQueries(dashboard: unknown): DashboardQuery[] {
  const found: DashboardQuery[] = [];
  const root = dashboard as { panels?: unknown[]; templating?: { list?: unknown[] } };
  const visit = (panels: unknown[] | undefined): void => {
    for (const raw of panels ?? []) {
      const panel = raw as { title?: string; targets?: { expr?: unknown }[]; panels?: unknown[] };
      for (const target of panel.targets ?? []) {
        if (typeof target.expr === 'string' && target.expr.trim() !== '') found.push({ where: panel.title ?? '(untitled panel)', expr: target.expr });
      }
      visit(panel.panels);
    }
  };
  visit(root.panels);
  for (const raw of root.templating?.list ?? []) {
    const variable = raw as { name?: string; type?: string; query?: unknown };
    if (variable.type !== 'query') continue;
    const text = typeof variable.query === 'string' ? variable.query : (variable.query as { query?: unknown } | undefined)?.query;
    if (typeof text !== 'string') continue;
    const expr = promqlInGrafanaVariableQuery(text);
    if (expr !== undefined) found.push({ where: `variable ${variable.name ?? '?'}`, expr });
  }
  return found;
}

/** Every `expr` of a Prometheus rules file (alerting and recording rules). */
export function ruleExpressions(rulesFile: unknown): DashboardQuery[] {
  const groups = (rulesFile as { groups?: { rules?: { alert?: string; record?: string; expr?: unknown }[] }[] }).groups ?? [];
  return groups.flatMap((group) =>
    (group.rules ?? [])
      .filter((rule) => typeof rule.expr === 'string')
      .map((rule) => ({ where: `rule ${rule.alert ?? rule.record ?? '?'}`, expr: String(rule.expr) })),
  );
}

/**
 * Metric types by name from Prometheus text exposition (`# TYPE name type`
 * lines). prom-client writes those even for a metric with no samples yet, so a
 * freshly started server already lists every series it declares.
 */
export function exportedMetricTypes(exposition: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of exposition.split('\n')) {
    const match = /^# TYPE ([A-Za-z_:][A-Za-z0-9_:]*) (\S+)/.exec(line);
    if (match) types.set(match[1]!, match[2]!);
  }
  return types;
}

/**
 * The exported metric a queried series name belongs to, or undefined:
 * `foo_bucket`, `foo_sum` and `foo_count` belong to the histogram or summary
 * `foo`; anything else must be exported under its own name.
 */
export function exportedNameFor(name: string, exported: ReadonlyMap<string, string>): string | undefined {
  if (exported.has(name)) return name;
  for (const suffix of SERIES_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = exported.get(base);
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return undefined;
}

/** `foo_bucket` -> `foo` (also `_sum`, `_count`); other names unchanged. For listing, not for checking. */
export function stripSeriesSuffix(name: string): string {
  for (const suffix of SERIES_SUFFIXES) if (name.endsWith(suffix)) return name.slice(0, -suffix.length);
  return name;
}
