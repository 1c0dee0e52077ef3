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

/** How the image starts the server: the compiled CLI (`npm run build`), no TypeScript at run time. */
export const IMAGE_ENTRYPOINT = ['node', 'dist/src/cli/gatehouse.js'];
/** Node.js lines the project supports (package.json engines); the image must be on one of them. */
export const SUPPORTED_NODE_MAJORS = [22, 24];
/**
 * Packages that compile or transform code at run time. None may be a runtime dependency, direct or transitive:
 * the image runs the compiled JavaScript on a read-only root, without a compile cache.
 */
export const RUNTIME_COMPILERS = [
  'tsx',
  'esbuild',
  'typescript',
  'ts-node',
  '@swc/core',
  '@swc/register',
  'sucrase',
  '@babel/core',
  '@babel/register',
];
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
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile build argument, not a JavaScript template.
    const image = from.args.split(/\s+/)[0]!.replace('${NODE_IMAGE}', nodeImage ?? '${NODE_IMAGE}');
    const major = /^node:(\d+)(\.\d+){0,2}-bookworm-slim(@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
    if (!major || !SUPPORTED_NODE_MAJORS.includes(Number(major))) {
      problems.push(`line ${from.line}: FROM ${image}, not node:<${SUPPORTED_NODE_MAJORS.join('|')}>-bookworm-slim (a supported Node.js line)`);
    }
  }
  for (const run of all.filter((i) => i.keyword === 'RUN')) {
    if (/apt-get\s+install|apt\s+install/.test(run.args))
      problems.push(`line ${run.line}: installs Debian packages itself; use .ci/install-system-deps.sh`);
  }
  for (let stage = 0; stage < stages; stage++) {
    if (!all.some((i) => i.stage === stage && i.keyword === 'RUN' && /install-system-deps\.sh/.test(i.args))) {
      problems.push(`stage ${stage} does not run install-system-deps.sh`);
    }
  }
  if (!final.some((i) => i.keyword === 'RUN' && /install-system-deps\.sh\s+--runtime/.test(i.args)))
    problems.push('the final stage does not install --runtime packages');
  const user = final.filter((i) => i.keyword === 'USER').at(-1)?.args;
  if (!user || !/^[1-9][0-9]*(:[0-9]+)?$/.test(user))
    problems.push(`final USER is ${user ?? 'unset'}: needs a numeric non-root uid (runAsNonRoot checks it)`);
  const healthcheck = final.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
  if (!/deploy\/healthcheck\.mjs/.test(healthcheck) || !healthcheck.includes(String(HEALTH_PORT))) {
    problems.push(`HEALTHCHECK does not run deploy/healthcheck.mjs against port ${HEALTH_PORT}`);
  }
  const entrypoint = execForm(final.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? '');
  const cmd = execForm(final.find((i) => i.keyword === 'CMD')?.args ?? '');
  problems.push(...checkCompiledEntrypoint(root, entrypoint ?? []));
  if (!isDeepStrictEqual(entrypoint, IMAGE_ENTRYPOINT))
    problems.push(`ENTRYPOINT is ${JSON.stringify(entrypoint)}, expected ${JSON.stringify(IMAGE_ENTRYPOINT)}`);
  if (!isDeepStrictEqual(cmd, IMAGE_CMD)) problems.push(`CMD is ${JSON.stringify(cmd)}, expected ${JSON.stringify(IMAGE_CMD)}`);
  if (deploymentArgs && !isDeepStrictEqual([...deploymentArgs], IMAGE_CMD)) {
    problems.push(`the Deployment's args ${JSON.stringify(deploymentArgs)} differ from the image's CMD ${JSON.stringify(IMAGE_CMD)}`);
  }
  const exposed = final.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
  for (const port of ['50051', String(HEALTH_PORT), '9464']) if (!exposed.includes(port)) problems.push(`port ${port} is not EXPOSEd`);
  if (!final.some((i) => i.keyword === 'VOLUME' && i.args.includes('/var/lib/gatehouse'))) problems.push('no VOLUME /var/lib/gatehouse');

  // The build context is an allow-list; whatever COPY names must exist and be allowed.
  const ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
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
  for (const needed of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'src',
    'interceptors',
    'proto',
    'config',
    'deploy/healthcheck.mjs',
    '.ci/install-system-deps.sh',
  ]) {
    if (!isAllowed(needed)) problems.push(`.dockerignore leaves out ${needed}`);
  }
  // The image keeps only production packages (npm prune --omit=dev): what runs in it must be a runtime dependency.
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const healthcheckSource = readFileSync(join(root, 'deploy/healthcheck.mjs'), 'utf8');
  const imports = [...healthcheckSource.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!).filter((s) => !s.startsWith('node:'));
  for (const name of imports) {
    if (!pkg.dependencies?.[name])
      problems.push(`${name} is used in the image but is not in package.json dependencies (npm prune --omit=dev drops it)`);
  }
  if (!all.some((i) => i.keyword === 'RUN' && /npm (prune|ci|install)\b[^&]*--omit=dev/.test(i.args))) {
    problems.push('no stage drops development packages (npm prune --omit=dev): the compiler would ship in the image');
  }
  problems.push(...runtimeCompilerDependencies(root));
  for (const instruction of final) {
    if (/--import\W+tsx|--loader\b|--experimental-strip-types|tsx\/esm/.test(instruction.args)) {
      problems.push(`line ${instruction.line}: the image runs TypeScript through a loader (${instruction.keyword}); run dist/ instead`);
    }
  }
  return problems;
}

/**
 * Runtime compilers among the production dependencies: in package.json `dependencies`, or anywhere in
 * package-lock.json's tree that is not marked `dev` (what `npm ci --omit=dev` installs).
 */
export function runtimeCompilerDependencies(root: string): string[] {
  const problems: string[] = [];
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    if (isRuntimeCompiler(name)) problems.push(`${name} is a runtime dependency: a compiler must be a devDependency (the image runs dist/)`);
  }
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    const name = path.replace(/^.*node_modules\//, '');
    if (path && !entry.dev && isRuntimeCompiler(name))
      problems.push(`${path} is installed in production (package-lock.json): some runtime dependency pulls in a compiler`);
  }
  return problems;
}

function isRuntimeCompiler(name: string): boolean {
  return RUNTIME_COMPILERS.includes(name) || name.startsWith('@esbuild/');
}

/** The entrypoint runs a dist/ file that `npm run build` (tsconfig.build.json) emits from an existing source. */
function checkCompiledEntrypoint(root: string, entrypoint: readonly string[]): string[] {
  const script = entrypoint.find((part) => part.endsWith('.js'));
  const match = script && /^dist\/(.+)\.js$/.exec(script);
  if (!match) return [`the entrypoint ${JSON.stringify(entrypoint)} does not run a compiled file under dist/`];
  const source = `${match[1]}.ts`;
  if (!existsSync(join(root, source))) return [`the entrypoint ${script} has no source ${source}`];
  const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as {
    compilerOptions?: { outDir?: string; rootDir?: string };
    include?: string[];
  };
  const problems: string[] = [];
  if (build.compilerOptions?.outDir !== 'dist' || build.compilerOptions?.rootDir !== '.')
    problems.push('tsconfig.build.json must compile with rootDir "." into outDir "dist" (the entrypoint path depends on it)');
  if (!(build.include ?? []).some((entry) => source === entry || source.startsWith(`${entry}/`)))
    problems.push(`tsconfig.build.json does not compile ${source}`);
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
  const board = dashboard as {
    uid?: string;
    title?: string;
    panels?: { id?: number; type?: string; title?: string; gridPos?: { x: number; w: number }; datasource?: { uid?: string }; targets?: unknown[] }[];
  };
  if (!board.uid || !board.title) problems.push('the dashboard has no uid or title');
  const ids = new Set<number>();
  for (const panel of board.panels ?? []) {
    if (panel.id === undefined || ids.has(panel.id)) problems.push(`panel "${panel.title}" has a missing or duplicate id`);
    ids.add(panel.id ?? -1);
    if (!panel.gridPos || panel.gridPos.x + panel.gridPos.w > 24) problems.push(`panel "${panel.title}" is outside the 24-column grid`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a JavaScript template.
    if (panel.type !== 'row' && panel.datasource?.uid !== '${datasource}')
      problems.push(`panel "${panel.title}" does not use the $datasource variable`);
    if (panel.type !== 'row' && (panel.targets ?? []).length === 0) problems.push(`panel "${panel.title}" has no query`);
  }
  const queries = dashboardQueries(dashboard);
  const named = new Set(queries.flatMap((q) => [...metricNamesInPromQL(q.expr)]));
  for (const metric of DASHBOARD_REQUIRED_METRICS) if (!named.has(metric)) problems.push(`no panel queries ${metric}`);
  const rulesFileText = YAML.stringify({
    groups: [
      {
        name: 'dashboard-queries',
        rules: queries.map((q, index) => ({ record: `dashboard:query_${index + 1}`, expr: substituteGrafanaVariables(q.expr) })),
      },
    ],
  });
  return { problems, queries, rulesFileText };
}

/** The Kubernetes PrometheusRule must be generated from the promtool-tested rules file. */
export function checkPrometheusRuleDrift(root: string): string[] {
  const wanted = renderPrometheusRule(readFileSync(join(root, RULES_FILE), 'utf8'));
  const current = existsSync(join(root, PROMETHEUS_RULE_FILE)) ? readFileSync(join(root, PROMETHEUS_RULE_FILE), 'utf8') : '';
  return current === wanted ? [] : [`${PROMETHEUS_RULE_FILE} is out of date: run npx tsx scripts/gen-prometheus-rule.ts`];
}
