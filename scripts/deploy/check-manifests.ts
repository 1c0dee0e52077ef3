/**
 * The Node.js half of deploy/check.sh: everything about the deploy files that
 * needs no cluster and no Docker engine. deploy/check.sh renders each overlay
 * with `kubectl kustomize` and runs promtool; this script checks the rendered
 * objects and the files.
 *
 *   node --import tsx scripts/deploy/check-manifests.ts \
 *     --rendered base=/tmp/base.yaml --rendered production=/tmp/production.yaml \
 *     [--dashboard-rules-out /tmp/dashboard.rules.yml]
 *
 * Prints `ok - ...` or `not ok - ...` with the problems per check; exits 1 if any failed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { checkUnknownFields, describe, validateSchemas, type K8sObject } from './k8s-schema.js';
import { checkRenderedSet, type CheckResult } from './manifest-checks.js';
import type { RenderedSet } from './rendered-set.js';
import { checkDashboard, checkDockerfile, checkPrometheusRuleDrift } from './static-checks.js';
import { RULES_FILE } from './prometheus-rule.js';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const { values } = parseArgs({
  options: {
    rendered: { type: 'string', multiple: true, default: [] },
    'dashboard-rules-out': { type: 'string' },
  },
});

/** Parses `kubectl kustomize` output; a YAML error is a failed check, not a crash. */
function readRendered(spec: string): RenderedSet | CheckResult {
  const [name, file] = spec.includes('=') ? [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)] : [spec, spec];
  const documents = YAML.parseAllDocuments(readFileSync(file, 'utf8'));
  const errors = documents.flatMap((d) => d.errors.map((e) => e.message));
  if (errors.length > 0) return { name: `${name}: rendered YAML parses`, problems: errors };
  const objects = documents.map((d) => d.toJS() as K8sObject | null).filter((o): o is K8sObject => o !== null);
  return { name, objects };
}

const results: CheckResult[] = [];
const sets: RenderedSet[] = [];
for (const spec of values.rendered ?? []) {
  const read = readRendered(spec);
  if ('problems' in read) results.push(read);
  else sets.push(read);
}
if (sets.length === 0) results.push({ name: 'at least one rendered overlay given (--rendered name=file)', problems: ['none given'] });

const rulesText = readFileSync(join(root, RULES_FILE), 'utf8');
for (const set of sets) {
  const kinds = [...new Set(set.objects.map((o) => o.kind))].join(', ');
  results.push({
    name: `${set.name}: ${set.objects.length} objects validate against the Kubernetes and CRD schemas (${kinds})`,
    problems: await validateSchemas(set.objects),
  });
}
if (sets.length > 0) {
  results.push({
    name: 'no unknown or mistyped fields in any overlay (strict, kubernetes-models types)',
    problems: checkUnknownFields(sets.flatMap((set) => set.objects.map((object) => ({ where: `${set.name}: ${describe(object)}`, object })))),
  });
}
for (const set of sets) results.push(...checkRenderedSet(set, rulesText));

const firstDeployment = sets[0]?.objects.find((o) => o.kind === 'Deployment') as IDeployment | undefined;
const deploymentArgs = firstDeployment?.spec?.template.spec?.containers[0]?.args;
results.push({
  name: 'Dockerfile: syntax, install-system-deps.sh, supported Node.js line, non-root, HEALTHCHECK on 8081, compiled entrypoint, no runtime compiler, build context',
  problems: checkDockerfile(root, deploymentArgs),
});

const dashboard = checkDashboard(root);
results.push({ name: `Grafana dashboard parses and shows the required metrics (${dashboard.queries.length} queries)`, problems: dashboard.problems });
if (values['dashboard-rules-out']) writeFileSync(values['dashboard-rules-out'], dashboard.rulesFileText);

results.push({ name: 'deploy/k8s/base/prometheusrule.yaml is generated from the tested rules', problems: checkPrometheusRuleDrift(root) });

let failed = 0;
for (const result of results) {
  if (result.problems.length === 0) {
    console.log(`ok - ${result.name}`);
  } else {
    failed++;
    console.log(`not ok - ${result.name}`);
    for (const problem of result.problems) console.log(`    ${problem}`);
  }
}
console.log(`manifests: ${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
