import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import {
  PROMETHEUS_SYNTHETIC_METRICS,
  dashboardQueries,
  exportedMetricTypes,
  exportedNameFor,
  metricNamesInPromQL,
  ruleExpressions,
  type DashboardQuery,
} from '../../scripts/deploy/promql-metric-names.js';
import { startGateway } from '../helpers/start-gateway.js';

/**
 * Metrics that only a hosted speech service registers. While the gateway under
 * test hosts no such service these cannot be checked, and the test says so.
 */
const SERVICE_METRIC_PREFIXES: readonly [prefix: string, service: string][] = [
  ['gatehouse_tts_', 'gatehouse.tts.v1.TextToSpeech'],
  ['gatehouse_stt_', 'gatehouse.stt.v1.SpeechToText'],
];

const read = (path: string): string => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');

/** Every PromQL query Gatehouse ships: the Grafana dashboard's and the alert rules'. */
function shippedQueries(): DashboardQuery[] {
  return [
    ...dashboardQueries(JSON.parse(read('deploy/grafana/gatehouse-dashboard.json'))),
    ...ruleExpressions(YAML.parse(read('deploy/prometheus/rules/gatehouse.rules.yml'))),
  ];
}

test('the dashboard and the alert rules query metrics by name', () => {
  const queries = shippedQueries();
  assert.ok(queries.length >= 30, `only ${queries.length} queries found`);
  for (const query of queries) assert.ok(metricNamesInPromQL(query.expr).size > 0, `${query.where} names no metric: ${query.expr}`);
});

test('every metric in the dashboard and the alert rules is one Gatehouse exports, checked against a live scrape', async (t) => {
  const gateway = await startGateway();
  t.after(() => gateway.close());
  const response = await fetch(`${gateway.adminUrl}/metrics`);
  assert.equal(response.status, 200);
  const exported = exportedMetricTypes(await response.text());
  // A scrape that lists nothing would make every name "missing"; make sure it is the real thing.
  assert.equal(exported.get('grpc_server_handled_total'), 'counter');

  const hosted = new Set(gateway.gateway.services.map((service) => service.name));
  const unhosted = SERVICE_METRIC_PREFIXES.filter(([, service]) => !hosted.has(service));
  const missing = new Map<string, string[]>();
  const unchecked = new Set<string>();
  let checked = 0;
  for (const query of shippedQueries()) {
    for (const name of metricNamesInPromQL(query.expr)) {
      if (PROMETHEUS_SYNTHETIC_METRICS.has(name)) continue;
      if (exportedNameFor(name, exported) !== undefined) {
        checked++;
        continue;
      }
      const owner = unhosted.find(([prefix]) => name.startsWith(prefix));
      if (owner) {
        unchecked.add(`${name} (${owner[1]} is not hosted by the default config)`);
        continue;
      }
      missing.set(name, [...(missing.get(name) ?? []), query.where]);
    }
  }
  for (const line of unchecked) t.diagnostic(`not checked: ${line}`);
  assert.ok(checked > 0, 'no queried metric was found in the scrape');
  const report = [...missing].map(([name, where]) => `${name} (in ${[...new Set(where)].join('; ')})`);
  assert.deepEqual(report, [], `queried but not exported by a live gateway:\n  ${report.join('\n  ')}`);
});
