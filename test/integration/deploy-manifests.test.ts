import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** True when `command` is on PATH. */
function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const kubectl = process.env.KUBECTL ?? 'kubectl';
const missing = ['promtool', kubectl].filter((tool) => !onPath(tool));
// Only a developer machine without the Debian packages may skip; CI installs
// them (.ci/install-system-deps.sh) and must run this.
const skip =
  missing.length > 0 && !process.env.CI
    ? `deploy/check.sh needs ${missing.join(' and ')}: run .ci/install-system-deps.sh (never skipped under CI)`
    : false;

test('deploy/check.sh passes: kustomize renders, schemas, probes, promtool rules and tests, dashboard', { skip, timeout: 120_000 }, () => {
  const result = spawnSync('bash', ['deploy/check.sh'], { cwd: root, encoding: 'utf8', timeout: 110_000 });
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, 0, `deploy/check.sh failed:\n${output}`);
  // Guard against a check.sh that passes because it checked nothing.
  assert.match(output, /ok - kubectl kustomize deploy\/k8s\/overlays\/production/);
  assert.match(output, /ok - production: probes are grpc on the health-only port 8081/);
  assert.match(output, /ok - production: orders never on an emptyDir, never on SQLite with more than one replica/);
  assert.match(output, /ok - single-node: orders never on an emptyDir, never on SQLite with more than one replica/);
  assert.match(output, /ok - promtool test rules/);
  assert.match(output, /deploy\/check\.sh: \d+ passed, 0 failed/);
});
