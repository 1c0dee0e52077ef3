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
 * Services whose metrics only exist while they are hosted. config/default.yaml
 * enables both, but the test helper turns them off for speed: the scraped
 * gateway must turn them back on, or every dashboard panel about speech would
 * go unchecked.
 */
const SPEECH_SERVICES = ['gatehouse.tts.v1.TextToSpeech', 'gatehouse.stt.v1.SpeechToText'];

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
  const gateway = await startGateway({ overrides: { 'tts.enabled': true, 'stt.enabled': true } });
  t.after(() => gateway.close());
  const hosted = new Set(gateway.gateway.services.map((service) => service.name));
  assert.deepEqual(
    SPEECH_SERVICES.filter((name) => !hosted.has(name)),
    [],
    'the scraped gateway hosts the speech services the dashboard watches',
  );
  const response = await fetch(`${gateway.adminUrl}/metrics`);
  assert.equal(response.status, 200);
  const exported = exportedMetricTypes(await response.text());
  // A scrape that lists nothing would make every name "missing"; make sure it is the real thing.
  assert.equal(exported.get('grpc_server_handled_total'), 'counter');

  const missing = new Map<string, string[]>();
  let checked = 0;
  for (const query of shippedQueries()) {
    for (const name of metricNamesInPromQL(query.expr)) {
      if (PROMETHEUS_SYNTHETIC_METRICS.has(name)) continue;
      if (exportedNameFor(name, exported) !== undefined) {
        checked++;
        continue;
      }
      missing.set(name, [...(missing.get(name) ?? []), query.where]);
    }
  }
  assert.ok(checked > 0, 'no queried metric was found in the scrape');
  const report = [...missing].map(([name, where]) => `${name} (in ${[...new Set(where)].join('; ')})`);
  assert.deepEqual(report, [], `queried but not exported by a live gateway:\n  ${report.join('\n  ')}`);
});
