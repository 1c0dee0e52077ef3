/**
 * The production build: `npm run build` output runs without tsx or esbuild. A gateway started from dist/ with a
 * preload that refuses to load either (or any .ts file) warms every engine in worker threads started from compiled
 * files, and the compiled CLI places a cheese order against it and synthesises speech through it.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTemporaryDevCertificates } from '../../certs/dev-certificates.js';
import { devTokenFor } from '../helpers/dev-token.js';
import { spawnGateway } from '../helpers/gateway-process.js';
import { waitForHealth } from '../helpers/health-client.js';
import * as grpc from '@grpc/grpc-js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/gatehouse.js');
const FORBID = fileURLToPath(new URL('../fixtures/forbid-runtime-compilers.mjs', import.meta.url));
const run = promisify(execFile);

/** Builds dist/ unless a build newer than every source exists (tsc is incremental either way). */
function ensureBuild(): void {
  const stamp = join(ROOT, 'dist/.build-stamp');
  if (existsSync(stamp) && existsSync(CLI)) {
    const built = statSync(stamp).mtimeMs;
    const stale = spawnSync('find', ['src', 'interceptors', 'certs/dev-certificates.ts', '-newer', stamp, '-type', 'f'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (stale.status === 0 && stale.stdout.trim() === '' && built > 0) return;
  }
  // What `npm run build` runs, without npm: tsc, then the non-TypeScript files next to the modules.
  for (const args of [[join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], [join(ROOT, 'scripts/copy-build-assets.mjs')]]) {
    const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    assert.equal(result.status, 0, `the build (${args.join(' ')}) failed:\n${result.stdout}${result.stderr}`);
  }
}

test('the compiled gateway serves every engine without tsx, and the compiled CLI orders cheese and synthesises speech', {
  timeout: 300_000,
}, async () => {
  ensureBuild();
  const certs = makeTemporaryDevCertificates();
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-compiled-'));
  const gateway = await spawnGateway(
    certs,
    join(dataDir, 'orders.db'),
    {
      GATEHOUSE_TTS__ENABLED: 'true',
      GATEHOUSE_TTS__WORKERS: '1',
      GATEHOUSE_TTS__FLITE__WORKERS: '1',
      GATEHOUSE_STT__ENABLED: 'true',
      GATEHOUSE_STT__WORKERS: '1',
    },
    ['--workers', '1'],
    { command: ['--import', FORBID, CLI] },
  );
  try {
    const health = `127.0.0.1:${gateway.healthPort}`;
    const insecure = grpc.credentials.createInsecure();
    for (const service of ['cheesefarm.v1.CheeseService', 'gatehouse.tts.v1.TextToSpeech', 'gatehouse.stt.v1.SpeechToText']) {
      assert.equal(
        await waitForHealth(health, insecure, 'SERVING', 240_000, service),
        'SERVING',
        `${service} did not become SERVING:\n${gateway.output.join('\n')}`,
      );
    }
    assert.ok(!gateway.output.some((line) => line.includes('runtime compiler or TypeScript source loaded')), gateway.output.join('\n'));

    const client = [
      '--target',
      `localhost:${gateway.grpcPort}`,
      '--ca',
      certs.caCert,
      '--cert',
      certs.clients.alice.cert,
      '--key',
      certs.clients.alice.key,
      '--token',
      devTokenFor(certs, 'alice'),
    ];
    const order = await run(process.execPath, [CLI, 'cheese', 'order', '--type', 'BRIE', '--age', '12', '--json', ...client], {
      cwd: ROOT,
      timeout: 30_000,
    });
    const placed = JSON.parse(order.stdout) as { type: string; age: number; orderId: string };
    assert.equal(placed.type, 'BRIE');
    assert.equal(placed.age, 12);
    assert.match(placed.orderId, /\S/);

    const wav = join(dataDir, 'hello.wav');
    await run(process.execPath, [CLI, 'tts', 'say', 'Hello from the compiled build', '--voice', 'kal16', '-o', wav, ...client], {
      cwd: ROOT,
      timeout: 60_000,
    });
    const bytes = readFileSync(wav);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'RIFF');
    assert.ok(bytes.length > 16_000, `a spoken sentence at 16 kHz is more than half a second of audio, got ${bytes.length} bytes`);
  } finally {
    gateway.child.kill('SIGTERM');
    assert.equal(await gateway.exited, 0, gateway.output.join('\n'));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(certs.dir, { recursive: true, force: true });
  }
});
