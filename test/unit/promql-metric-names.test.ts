import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dashboardQueries,
  exportedMetricTypes,
  exportedNameFor,
  metricNamesInPromQL,
  promqlInGrafanaVariableQuery,
  ruleExpressions,
} from '../../scripts/deploy/promql-metric-names.js';

const names = (expr: string): string[] => [...metricNamesInPromQL(expr)].sort();

test('a plain selector names its metric, not its labels or values', () => {
  assert.deepEqual(names('grpc_server_started_total{job="gatehouse", grpc_method=~"Order|List"}'), ['grpc_server_started_total']);
});

test('functions, aggregations, grouping labels and durations are not metrics', () => {
  const expr = `histogram_quantile(0.99, sum by (grpc_service, grpc_method, le) (
      rate(grpc_server_handling_seconds_bucket{job="gatehouse", grpc_type="unary"}[5m])))
    > 2`;
  assert.deepEqual(names(expr), ['grpc_server_handling_seconds_bucket']);
  assert.deepEqual(names('sum(rate(a_total[5m])) without (instance) / count(b)'), ['a_total', 'b']);
  assert.deepEqual(names('sum(rate(x_total[1h:5m] offset 1d)) by (reason)'), ['x_total']);
});

test('binary operators, vector matching and keywords', () => {
  const expr = 'a_total / on (job) group_left (pod) b_info and bool c unless d or e offset 5m > 1e3';
  assert.deepEqual(names(expr), ['a_total', 'b_info', 'c', 'd', 'e']);
  assert.deepEqual(names('increase(x[15m]) > 0 or (x > 0 unless x offset 15m)'), ['x']);
});

test('Grafana variables, strings, comments and __name__ selectors', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable inside PromQL, not a JavaScript template.
  assert.deepEqual(names('rate(m_total{namespace=~"$namespace", instance=~"${instance}"}[$__rate_interval])'), ['m_total']);
  assert.deepEqual(names('{__name__="by_name_total", job="x"} # sum(not_a_metric)'), ['by_name_total']);
  assert.deepEqual(names(`label_replace(up, "dst", "$1", "src", "(.*)")`), ['up']);
});

test('Grafana variable queries unwrap to their PromQL', () => {
  assert.equal(
    promqlInGrafanaVariableQuery('label_values(grpc_server_started_total{job="gatehouse"}, namespace)'),
    'grpc_server_started_total{job="gatehouse"}',
  );
  assert.equal(promqlInGrafanaVariableQuery('label_values(namespace)'), undefined);
  assert.equal(promqlInGrafanaVariableQuery('query_result(topk(5, foo))'), 'topk(5, foo)');
});

test('dashboard and rules queries are all found, rows and variables included', () => {
  const dashboard = {
    panels: [
      { title: 'A', targets: [{ expr: 'a_total' }, { expr: '' }] },
      { type: 'row', title: 'R', panels: [{ title: 'B', targets: [{ expr: 'b' }] }] },
    ],
    templating: {
      list: [
        { name: 'ns', type: 'query', query: { query: 'label_values(c, namespace)' } },
        { name: 'ds', type: 'datasource', query: 'prometheus' },
      ],
    },
  };
  assert.deepEqual(
    dashboardQueries(dashboard).map((q) => q.expr),
    ['a_total', 'b', 'c'],
  );
  const rules = {
    groups: [
      {
        rules: [
          { alert: 'X', expr: 'x > 1' },
          { record: 'y:rate', expr: 'rate(y[5m])' },
        ],
      },
    ],
  };
  assert.deepEqual(
    ruleExpressions(rules).map((q) => q.where),
    ['rule X', 'rule y:rate'],
  );
});

test('series suffixes map to histograms only when the base is a histogram', () => {
  const exported = exportedMetricTypes(
    ['# HELP h_seconds a histogram', '# TYPE h_seconds histogram', '# TYPE c_total counter', '# TYPE q summary', 'c_total 3'].join('\n'),
  );
  assert.equal(exportedNameFor('h_seconds_bucket', exported), 'h_seconds');
  assert.equal(exportedNameFor('h_seconds_count', exported), 'h_seconds');
  assert.equal(exportedNameFor('c_total', exported), 'c_total');
  assert.equal(exportedNameFor('q_sum', exported), 'q');
  assert.equal(exportedNameFor('q_bucket', exported), undefined);
  assert.equal(exportedNameFor('c_total_count', exported), undefined);
  assert.equal(exportedNameFor('missing_total', exported), undefined);
});
