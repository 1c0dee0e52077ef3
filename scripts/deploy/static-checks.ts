/**
 * Checks of the deploy files that need no rendering: the Dockerfile (which
 * cannot be built here: no Docker engine), the Grafana dashboard, and the
 * generated PrometheusRule.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import YAML from 'yaml';
import { validate as validateDockerfile } from 'dockerfile-utils';
import { dashboardQueries, metricNamesInPromQL, type DashboardQuery } from './promql-metric-names.js';
import { PROMETHEUS_RULE_FILE, RULES_FILE, renderPrometheusRule } from './prometheus-rule.js';
import { HEALTH_PORT } from './manifest-checks.js';

/** How the image starts the server; the Deployment passes the same arguments. */
export const IMAGE_ENTRYPOINT = ['node', '--import', 'tsx', 'src/cli/gatehouse.ts'];
/** Default arguments of the image: serve with the mounted production config. */
export const IMAGE_CMD = ['serve', '--config', '/etc/gatehouse/config.yaml'];
/** Dashboard file, relative to the repository root. */
export const DASHBOARD_FILE = 'deploy/grafana/gatehouse-dashboard.json';
/** Metrics the issue requires the dashboard to show. */
export const DASHBOARD_REQUIRED_METRICS = [
  'grpc_server_handled_total',
  'grpc_server_handling_seconds_bucket',
  'gatehouse_auth_failures_total',
  'gatehouse_tts_real_time_factor_bucket',
  'gatehouse_stt_real_time_factor_bucket',
  'gatehouse_certificate_expiry_seconds',
  'gatehouse_inflight_calls',
  'gatehouse_rate_limited_total',
];

interface Instruction {
  keyword: string;
  args: string;
  line: number;
  stage: number;
}

/** Dockerfile instructions with continuation lines joined and comments dropped; `stage` counts FROMs from 0. */
function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  const lines = text.split('\n');
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const first = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      if (/^\s*#/.test(lines[i]!)) continue;
      line = line.replace(/\\\s*$/, ' ') + lines[i]!;
    }
    const match = /^\s*(\S+)\s*(.*)$/.exec(line)!;
    const keyword = match[1]!.toUpperCase();
    if (keyword === 'FROM') stage++;
    result.push({ keyword, args: match[2]!.trim(), line: first + 1, stage });
  }
  return result;
}

/** Exec-form JSON array of an instruction (`["a", "b"]`), or undefined for shell form. */
function execForm(args: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((part) => typeof part === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Dockerfile: valid syntax, Debian packages only through
 * .ci/install-system-deps.sh, a non-root numeric user, the health-only port in
 * HEALTHCHECK, the standard entrypoint, and build-context paths that exist and
 * pass .dockerignore.
 */
export function checkDockerfile(root: string, deploymentArgs: readonly string[] | undefined): string[] {
  const problems: string[] = [];
  const text = readFileSync(join(root, 'deploy/Dockerfile'), 'utf8');
  for (const diagnostic of validateDockerfile(text)) {
    problems.push(`Dockerfile line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`);
  }
  const all = instructions(text);
  const stages = Math.max(...all.map((i) => i.stage)) + 1;
  const final = all.filter((i) => i.stage === stages - 1);
  if (stages < 2) problems.push('the Dockerfile is not multi-stage');
  const nodeImage = all.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args.split('=')[1];
  for (const from of all.filter((i) => i.keyword === 'FROM')) {
    const image = from.args.split(/\s+/)[0]!.replace('${NODE_IMAGE}', nodeImage ?? '${NODE_IMAGE}');
    if (image !== 'node:20-bookworm-slim') problems.push(`line ${from.line}: FROM ${image}, not node:20-bookworm-slim`);
  }
  for (const run of all.filter((i) => i.keyword === 'RUN')) {
    if (/apt-get\s+install|apt\s+install/.test(run.args)) problems.push(`line ${run.line}: installs Debian packages itself; use .ci/install-system-deps.sh`);
  }
  for (let stage = 0; stage < stages; stage++) {
    if (!all.some((i) => i.stage === stage && i.keyword === 'RUN' && /install-system-deps\.sh/.test(i.args))) {
      problems.push(`stage ${stage} does not run install-system-deps.sh`);
    }
  }
  if (!final.some((i) => i.keyword === 'RUN' && /install-system-deps\.sh\s+--runtime/.test(i.args))) problems.push('the final stage does not install --runtime packages');
  const user = final.filter((i) => i.keyword === 'USER').at(-1)?.args;
  if (!user || !/^[1-9][0-9]*(:[0-9]+)?$/.test(user)) problems.push(`final USER is ${user ?? 'unset'}: needs a numeric non-root uid (runAsNonRoot checks it)`);
  const healthcheck = final.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
  if (!/deploy\/healthcheck\.mjs/.test(healthcheck) || !healthcheck.includes(String(HEALTH_PORT))) {
    problems.push(`HEALTHCHECK does not run deploy/healthcheck.mjs against port ${HEALTH_PORT}`);
  }
  const entrypoint = execForm(final.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? '');
  const cmd = execForm(final.find((i) => i.keyword === 'CMD')?.args ?? '');
  if (!existsSync(join(root, IMAGE_ENTRYPOINT.at(-1)!))) problems.push(`the entrypoint ${IMAGE_ENTRYPOINT.at(-1)} does not exist`);
  if (!isDeepStrictEqual(entrypoint, IMAGE_ENTRYPOINT)) problems.push(`ENTRYPOINT is ${JSON.stringify(entrypoint)}, expected ${JSON.stringify(IMAGE_ENTRYPOINT)}`);
  if (!isDeepStrictEqual(cmd, IMAGE_CMD)) problems.push(`CMD is ${JSON.stringify(cmd)}, expected ${JSON.stringify(IMAGE_CMD)}`);
  if (deploymentArgs && !isDeepStrictEqual([...deploymentArgs], IMAGE_CMD)) {
    problems.push(`the Deployment's args ${JSON.stringify(deploymentArgs)} differ from the image's CMD ${JSON.stringify(IMAGE_CMD)}`);
  }
  const exposed = final.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
  for (const port of ['50051', String(HEALTH_PORT), '9464']) if (!exposed.includes(port)) problems.push(`port ${port} is not EXPOSEd`);
  if (!final.some((i) => i.keyword === 'VOLUME' && i.args.includes('/var/lib/gatehouse'))) problems.push('no VOLUME /var/lib/gatehouse');

  // The build context is an allow-list; whatever COPY names must exist and be allowed.
  const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (ignore[0] !== '*') problems.push('.dockerignore does not start with * (allow-list): keys or node_modules could enter the image');
  const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
  const isAllowed = (path: string): boolean => allowed.some((entry) => path === entry || path.startsWith(`${entry}/`));
  for (const copy of all.filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))) {
    const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    for (const source of parts.slice(0, -1)) {
      if (source === '.') continue;
      if (!existsSync(join(root, source))) problems.push(`line ${copy.line}: COPY ${source} does not exist`);
      else if (!isAllowed(source)) problems.push(`line ${copy.line}: COPY ${source} is excluded by .dockerignore`);
    }
  }
  for (const needed of ['package.json', 'package-lock.json', 'src', 'proto', 'deploy/healthcheck.mjs', '.ci/install-system-deps.sh']) {
    if (!isAllowed(needed)) problems.push(`.dockerignore leaves out ${needed}`);
  }
  // The image installs with --omit=dev: what runs in it must be a runtime dependency.
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const healthcheckSource = readFileSync(join(root, 'deploy/healthcheck.mjs'), 'utf8');
  const imports = [...healthcheckSource.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!).filter((s) => !s.startsWith('node:'));
  for (const name of [...imports, 'tsx']) {
    if (!pkg.dependencies?.[name]) problems.push(`${name} is used in the image but is not in package.json dependencies (npm ci --omit=dev drops it)`);
  }
  return problems;
}

/** Grafana's variables, replaced with values Prometheus accepts, so promtool can parse each query. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '5m')
    .replace(/\$__interval|\$\{__interval\}/g, '1m')
    .replace(/\$__range|\$\{__range\}/g, '1h')
    .replace(/\$\{[A-Za-z0-9_:]+\}|\$[A-Za-z_][A-Za-z0-9_]*/g, '.*');
}

/**
 * The dashboard: parses, is well formed, shows what the issue asks for, and
 * returns its queries as a Prometheus rules file (one recording rule each) so
 * `promtool check rules` proves every query is valid PromQL.
 */
export function checkDashboard(root: string): { problems: string[]; queries: DashboardQuery[]; rulesFileText: string } {
  const problems: string[] = [];
  let dashboard: unknown;
  try {
    dashboard = JSON.parse(readFileSync(join(root, DASHBOARD_FILE), 'utf8'));
  } catch (error) {
    return { problems: [`${DASHBOARD_FILE}: ${(error as Error).message}`], queries: [], rulesFileText: '' };
  }
  const board = dashboard as { uid?: string; title?: string; panels?: { id?: number; type?: string; title?: string; gridPos?: { x: number; w: number }; datasource?: { uid?: string }; targets?: unknown[] }[] };
  if (!board.uid || !board.title) problems.push('the dashboard has no uid or title');
  const ids = new Set<number>();
  for (const panel of board.panels ?? []) {
    if (panel.id === undefined || ids.has(panel.id)) problems.push(`panel "${panel.title}" has a missing or duplicate id`);
    ids.add(panel.id ?? -1);
    if (!panel.gridPos || panel.gridPos.x + panel.gridPos.w > 24) problems.push(`panel "${panel.title}" is outside the 24-column grid`);
    if (panel.type !== 'row' && panel.datasource?.uid !== '${datasource}') problems.push(`panel "${panel.title}" does not use the $datasource variable`);
    if (panel.type !== 'row' && (panel.targets ?? []).length === 0) problems.push(`panel "${panel.title}" has no query`);
  }
  const queries = dashboardQueries(dashboard);
  const named = new Set(queries.flatMap((q) => [...metricNamesInPromQL(q.expr)]));
  for (const metric of DASHBOARD_REQUIRED_METRICS) if (!named.has(metric)) problems.push(`no panel queries ${metric}`);
  const rulesFileText = YAML.stringify({
    groups: [{
      name: 'dashboard-queries',
      rules: queries.map((q, index) => ({ record: `dashboard:query_${index + 1}`, expr: substituteGrafanaVariables(q.expr) })),
    }],
  });
  return { problems, queries, rulesFileText };
}

/** The Kubernetes PrometheusRule must be generated from the promtool-tested rules file. */
export function checkPrometheusRuleDrift(root: string): string[] {
  const wanted = renderPrometheusRule(readFileSync(join(root, RULES_FILE), 'utf8'));
  const current = existsSync(join(root, PROMETHEUS_RULE_FILE)) ? readFileSync(join(root, PROMETHEUS_RULE_FILE), 'utf8') : '';
  return current === wanted ? [] : [`${PROMETHEUS_RULE_FILE} is out of date: run npx tsx scripts/gen-prometheus-rule.ts`];
}
