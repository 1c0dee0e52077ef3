/**
 * deploy/check.sh's storage rule (the same checks check-manifests.ts runs per
 * overlay, without the slow schema pass), on the rendered overlays and on
 * broken variants of them: a workload fails when it can run more than one replica
 * with orders in SQLite, or keeps orders on an emptyDir.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { checkRenderedSet } from '../../scripts/deploy/manifest-checks.js';
import { RULES_FILE } from '../../scripts/deploy/prometheus-rule.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const kubectl = process.env.KUBECTL ?? 'kubectl';
const hasKubectl = spawnSync('sh', ['-c', `command -v ${kubectl}`], { stdio: 'ignore' }).status === 0;
const skip = !hasKubectl && !process.env.CI ? 'needs kubectl (run .ci/install-system-deps.sh; never skipped under CI)' : false;
const STORAGE_CHECK = 'orders never on an emptyDir, never on SQLite with more than one replica';

// Rendered manifests are read loosely: a test reaching a missing field fails on its assertion.
// biome-ignore lint/suspicious/noExplicitAny: arbitrary Kubernetes object specs.
type K8sObject = { kind: string; spec?: any };

describe('deploy check: order storage layouts', { skip, timeout: 120_000 }, () => {
  const rulesText = readFileSync(join(root, RULES_FILE), 'utf8');

  const rendered = new Map<string, string>();
  /** A fresh copy of the overlay's objects, rendered once by kubectl kustomize. */
  const render = (overlay: string): K8sObject[] => {
    if (!rendered.has(overlay)) {
      const result = spawnSync(kubectl, ['kustomize', `deploy/k8s/overlays/${overlay}`], { cwd: root, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      rendered.set(overlay, result.stdout);
    }
    return YAML.parseAllDocuments(rendered.get(overlay)!)
      .map((d) => d.toJS() as K8sObject)
      .filter(Boolean);
  };
  /** Runs deploy/check.sh's per-overlay checks (scripts/deploy/manifest-checks.ts) on `objects`; returns the storage check. */
  const check = (name: string, objects: K8sObject[]) => {
    const results = checkRenderedSet({ name, objects: objects as never }, rulesText);
    const storage = results.find((result) => result.name.includes(STORAGE_CHECK));
    assert.ok(storage, `the storage check did not run: ${results.map((r) => r.name).join('; ')}`);
    return { ok: storage.problems.length === 0, problems: storage.problems };
  };
  const deployment = (objects: K8sObject[]) => objects.find((o) => o.kind === 'Deployment')!;

  it('both shipped overlays pass', () => {
    for (const overlay of ['production', 'single-node']) {
      const result = check(overlay, render(overlay));
      assert.ok(result.ok, `${overlay}: ${result.problems.join('; ')}`);
    }
  });

  it('production without its PostgreSQL URL (orders in SQLite, autoscaled) fails', () => {
    const objects = render('production');
    const container = deployment(objects).spec.template.spec.containers[0];
    container.env = container.env.filter((e: { name: string }) => e.name !== 'GATEHOUSE_STORAGE__URL');
    const result = check('production-sqlite', objects);
    assert.equal(result.ok, false);
    assert.match(
      result.problems.join('\n'),
      /orders are in SQLite \(no storage\.url\) but the workload may run 20 replicas \(HorizontalPodAutoscaler maxReplicas\)/,
    );
  });

  it('production without Redis fails: rate limits would be per pod', () => {
    const objects = render('production');
    const container = deployment(objects).spec.template.spec.containers[0];
    container.env = container.env.filter((e: { name: string }) => e.name !== 'GATEHOUSE_RATE_LIMITS__REDIS_URL');
    assert.match(check('production-no-redis', objects).problems.join('\n'), /rateLimits\.redisUrl is not set/);
  });

  it('single-node with orders on an emptyDir fails', () => {
    const objects = render('single-node');
    const pod = deployment(objects).spec.template.spec;
    pod.volumes = pod.volumes.map((v: { name: string }) => (v.name === 'data' ? { name: 'data', emptyDir: {} } : v));
    const result = check('single-node-emptydir', objects);
    assert.equal(result.ok, false);
    assert.match(result.problems.join('\n'), /is on emptyDir volume "data": acknowledged orders would be lost with the pod/);
  });

  it('single-node scaled to three replicas fails', () => {
    const objects = render('single-node');
    deployment(objects).spec.replicas = 3;
    const result = check('single-node-three', objects);
    assert.equal(result.ok, false);
    assert.match(result.problems.join('\n'), /orders are in SQLite .* may run 3 replicas/);
  });
});
