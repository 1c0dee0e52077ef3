/**
 * deploy/check.sh's storage rule, on the rendered overlays and on broken
 * variants of them: a workload fails when it can run more than one replica
 * with orders in SQLite, or keeps orders on an emptyDir.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const kubectl = process.env.KUBECTL ?? 'kubectl';
const hasKubectl = spawnSync('sh', ['-c', `command -v ${kubectl}`], { stdio: 'ignore' }).status === 0;
const skip = !hasKubectl && !process.env.CI ? 'needs kubectl (run .ci/install-system-deps.sh; never skipped under CI)' : false;
const STORAGE_CHECK = 'orders never on an emptyDir, never on SQLite with more than one replica';

type K8sObject = { kind: string; spec?: any };

describe('deploy check: order storage layouts', { skip, timeout: 120_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-deploy-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  const render = (overlay: string): K8sObject[] => {
    const result = spawnSync(kubectl, ['kustomize', `deploy/k8s/overlays/${overlay}`], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return YAML.parseAllDocuments(result.stdout).map((d) => d.toJS() as K8sObject).filter(Boolean);
  };
  /** Runs the manifest checks on `objects`; returns the storage check's line and its problems. */
  const check = (name: string, objects: K8sObject[]) => {
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, objects.map((o) => YAML.stringify(o)).join('---\n'));
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/deploy/check-manifests.ts', '--rendered', `${name}=${file}`], { cwd: root, encoding: 'utf8' });
    const lines = result.stdout.split('\n');
    const at = lines.findIndex((line) => line.includes(STORAGE_CHECK));
    assert.ok(at >= 0, `the storage check did not run:\n${result.stdout}${result.stderr}`);
    const problems: string[] = [];
    for (let i = at + 1; i < lines.length && lines[i]!.startsWith('    '); i += 1) problems.push(lines[i]!.trim());
    return { ok: lines[at]!.startsWith('ok - '), problems, exitCode: result.status };
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
    assert.equal(result.exitCode, 1);
    assert.match(result.problems.join('\n'), /orders are in SQLite \(no storage\.url\) but the workload may run 20 replicas \(HorizontalPodAutoscaler maxReplicas\)/);
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
