/**
 * The Dockerfile checks of deploy/check.sh catch an image that would compile at run time or run an unsupported Node:
 * each case copies the repository's real files into a temporary root, breaks one thing, and expects that problem.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkDockerfile, IMAGE_CMD, runtimeCompilerDependencies } from '../../scripts/deploy/static-checks.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FILES = [
  'deploy/Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'deploy/healthcheck.mjs',
  '.ci/install-system-deps.sh',
  'src/cli/gatehouse.ts',
  'certs/dev-certificates.ts',
  'scripts/copy-build-assets.mjs',
];
const DIRS = ['proto', 'config'];

/** A temporary root with the real deploy inputs, `edit` applied, and the problems checkDockerfile reports. */
function problemsAfter(edit: (root: string) => void): string[] {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-static-'));
  try {
    for (const file of FILES) cpSync(join(ROOT, file), join(root, file));
    for (const dir of DIRS) cpSync(join(ROOT, dir), join(root, dir), { recursive: true });
    // COPY sources only need to exist; empty directories stand in for the large ones.
    for (const dir of ['src', 'interceptors']) cpSync(join(ROOT, 'tsconfig.json'), join(root, dir, '.keep'));
    edit(root);
    return checkDockerfile(root, IMAGE_CMD);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function replaceIn(root: string, file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(join(root, file), 'utf8');
  const changed = text.replace(from, to);
  assert.notEqual(changed, text, `the edit of ${file} changed nothing: the test would prove nothing`);
  writeFileSync(join(root, file), changed);
}

test('the repository Dockerfile passes: supported Node line, compiled entrypoint, no runtime compiler', () => {
  assert.deepEqual(
    problemsAfter(() => undefined),
    [],
  );
  assert.deepEqual(runtimeCompilerDependencies(ROOT), []);
});

test('an image on Node 20 (end of life) is refused; 22 and a pinned 24.x digest are accepted', () => {
  const old = problemsAfter((root) => replaceIn(root, 'deploy/Dockerfile', 'node:24-bookworm-slim', 'node:20-bookworm-slim'));
  assert.ok(
    old.some((p) => p.includes('FROM node:20-bookworm-slim')),
    old.join('\n'),
  );
  assert.deepEqual(
    problemsAfter((root) => replaceIn(root, 'deploy/Dockerfile', 'node:24-bookworm-slim', 'node:22-bookworm-slim')),
    [],
  );
  assert.deepEqual(
    problemsAfter((root) => replaceIn(root, 'deploy/Dockerfile', 'node:24-bookworm-slim', `node:24.22.3-bookworm-slim@sha256:${'a'.repeat(64)}`)),
    [],
  );
});

test('an entrypoint that runs TypeScript through tsx is refused', () => {
  const problems = problemsAfter((root) =>
    replaceIn(root, 'deploy/Dockerfile', '["node", "dist/src/cli/gatehouse.js"]', '["node", "--import", "tsx", "src/cli/gatehouse.ts"]'),
  );
  assert.ok(
    problems.some((p) => p.includes('does not run a compiled file under dist/')),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.includes('runs TypeScript through a loader')),
    problems.join('\n'),
  );
});

test('tsx as a runtime dependency, directly or pulled in by another package, is refused', () => {
  const direct = problemsAfter((root) => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    pkg.dependencies.tsx = pkg.devDependencies.tsx!;
    writeFileSync(join(root, 'package.json'), JSON.stringify(pkg));
  });
  assert.ok(
    direct.some((p) => p.startsWith('tsx is a runtime dependency')),
    direct.join('\n'),
  );
  const transitive = problemsAfter((root) => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    delete lock.packages['node_modules/esbuild']!.dev;
    writeFileSync(join(root, 'package-lock.json'), JSON.stringify(lock));
  });
  assert.ok(
    transitive.some((p) => p.startsWith('node_modules/esbuild is installed in production')),
    transitive.join('\n'),
  );
});

test('an image that keeps development packages is refused', () => {
  const problems = problemsAfter((root) => replaceIn(root, 'deploy/Dockerfile', / \\\n && npm prune --omit=dev --no-audit --no-fund/, ''));
  assert.ok(
    problems.some((p) => p.includes('no stage drops development packages')),
    problems.join('\n'),
  );
});
