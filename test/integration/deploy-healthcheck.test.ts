import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';

const script = fileURLToPath(new URL('../../deploy/healthcheck.mjs', import.meta.url));

/** Runs the image's HEALTHCHECK script; resolves with its exit code and output. */
function healthcheck(...args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('deploy/healthcheck.mjs exits 0 only while the health-only listener says SERVING', async (t) => {
  const health = new HealthImplementation({ '': 'SERVING', 'gatehouse.tts.v1.TextToSpeech': 'NOT_SERVING' });
  const server = new grpc.Server();
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  t.after(() => server.forceShutdown());
  const target = `127.0.0.1:${port}`;

  const serving = await healthcheck(target);
  assert.equal(serving.code, 0, serving.output);
  // Anchored: /SERVING/ alone would also match an output saying NOT_SERVING.
  assert.match(serving.output, /^healthy: 127\.0\.0\.1:\d+ "" SERVING$/m);

  const oneService = await healthcheck(target, 'gatehouse.tts.v1.TextToSpeech');
  assert.equal(oneService.code, 1, oneService.output);
  assert.match(oneService.output, /^unhealthy: .* "gatehouse\.tts\.v1\.TextToSpeech" NOT_SERVING$/m);

  const unknown = await healthcheck(target, 'no.such.Service');
  assert.equal(unknown.code, 1, unknown.output);
  assert.match(unknown.output, /NOT_FOUND/);

  // Draining: the lifecycle flips "" to NOT_SERVING.
  health.setStatus('', 'NOT_SERVING');
  const draining = await healthcheck(target);
  assert.equal(draining.code, 1, draining.output);
  assert.match(draining.output, /^unhealthy: .* "" NOT_SERVING$/m);
});

test('deploy/healthcheck.mjs exits 1 when nothing listens', async () => {
  const port = await freePort();
  const result = await healthcheck(`127.0.0.1:${port}`);
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, /unhealthy/);
});

/** A port that was free a moment ago (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const listener = createServer();
    listener.listen(0, '127.0.0.1', () => {
      const { port } = listener.address() as { port: number };
      listener.close(() => resolve(port));
    });
  });
}
