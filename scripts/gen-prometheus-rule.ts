/**
 * Writes deploy/k8s/base/prometheusrule.yaml from the alert rules in
 * deploy/prometheus/rules/gatehouse.rules.yml. With --check it writes nothing
 * and exits 1 when the file is out of date (deploy/check.sh does the same check).
 *   npx tsx scripts/gen-prometheus-rule.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { PROMETHEUS_RULE_FILE, RULES_FILE, renderPrometheusRule } from './deploy/prometheus-rule.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wanted = renderPrometheusRule(readFileSync(join(root, RULES_FILE), 'utf8'));
const target = join(root, PROMETHEUS_RULE_FILE);

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as out of date
  }
  if (current !== wanted) {
    console.error(`${PROMETHEUS_RULE_FILE} is out of date: run npx tsx scripts/gen-prometheus-rule.ts`);
    process.exit(1);
  }
  console.log(`${PROMETHEUS_RULE_FILE} is up to date`);
} else {
  writeFileSync(target, wanted);
  console.log(`wrote ${PROMETHEUS_RULE_FILE}`);
}
