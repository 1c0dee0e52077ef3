import YAML from 'yaml';

/** Path of the alert rules, relative to the repository root: the one source of truth. */
export const RULES_FILE = 'deploy/prometheus/rules/gatehouse.rules.yml';
/** Path of the generated Prometheus Operator copy, relative to the repository root. */
export const PROMETHEUS_RULE_FILE = 'deploy/k8s/base/prometheusrule.yaml';

const HEADER = `# GENERATED from ${RULES_FILE} by \`npx tsx scripts/gen-prometheus-rule.ts\`;
# do not edit (deploy/check.sh fails when the two differ).
# The Prometheus Operator loads PrometheusRules that match its ruleSelector;
# kube-prometheus-stack, for one, wants the label release: <its release name>.
# Add that label in an overlay.
`;

/**
 * Wraps the rule groups of a Prometheus rules file in a Prometheus Operator
 * `PrometheusRule`, so the alerts tested by promtool are the alerts deployed.
 * Returns the YAML text of the object, header comment included.
 */
export function renderPrometheusRule(rulesFileText: string): string {
  const rules: unknown = YAML.parse(rulesFileText);
  if (typeof rules !== 'object' || rules === null || !Array.isArray((rules as { groups?: unknown }).groups)) {
    throw new Error(`${RULES_FILE}: expected a mapping with a "groups" list`);
  }
  const object = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'gatehouse',
      labels: { 'app.kubernetes.io/name': 'gatehouse', 'app.kubernetes.io/component': 'gateway' },
    },
    spec: { groups: (rules as { groups: unknown[] }).groups },
  };
  return HEADER + YAML.stringify(object, { lineWidth: 0 });
}
