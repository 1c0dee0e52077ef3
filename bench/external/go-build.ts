/**
 * Builds a small Go program offline from Debian's Go packages (GOPATH mode
 * against /usr/share/gocode: golang-google-grpc-dev, golang-google-protobuf-dev)
 * into a git-ignored cache, once per version of its source.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where built binaries and Go's build cache live: git-ignored, like everything under node_modules/. */
export const GO_CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/gatehouse-bench/', import.meta.url));
/** Where Debian's Go packages put their sources. */
const DEBIAN_GOPATH = '/usr/share/gocode';

/** Builds the `main` package in `sourceDir` unless a binary of its current sources is cached; returns the binary's path. */
export function buildGoProgram(sourceDir: string): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(sourceDir)
    .filter((name) => name.endsWith('.go'))
    .sort())
    hash.update(file).update(readFileSync(join(sourceDir, file)));
  const binary = join(GO_CACHE_DIR, `${basename(sourceDir)}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(binary)) return binary;
  if (!existsSync(join(DEBIAN_GOPATH, 'src/google.golang.org/grpc'))) {
    throw new Error(`${DEBIAN_GOPATH}/src/google.golang.org/grpc is missing: run .ci/install-system-deps.sh (golang-go, golang-google-grpc-dev)`);
  }
  mkdirSync(GO_CACHE_DIR, { recursive: true });
  try {
    execFileSync('go', ['build', '-o', binary, '.'], {
      cwd: sourceDir,
      env: { ...process.env, GO111MODULE: 'off', GOPATH: DEBIAN_GOPATH, GOCACHE: join(GO_CACHE_DIR, 'go-build'), GOFLAGS: '', CGO_ENABLED: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    throw new Error(`cannot build ${sourceDir} (needs Debian's golang-go, golang-google-grpc-dev, golang-google-protobuf-dev): ${detail}`);
  }
  return binary;
}
