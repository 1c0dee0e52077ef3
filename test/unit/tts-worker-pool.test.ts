import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SynthesisWorkerPool } from '../../src/engines/synthesis-worker-pool.js';
import { SynthesisEngineError } from '../../src/engines/synthesis-engine-error.js';
import type { FakeRequest } from '../fixtures/tts-fake-synthesis-worker.js';

const workerUrl = new URL('../fixtures/tts-fake-synthesis-worker.ts', import.meta.url);

function pool(size: number, extra: Partial<ConstructorParameters<typeof SynthesisWorkerPool>[0]> = {}): SynthesisWorkerPool {
  const p = new SynthesisWorkerPool({ name: 'fake', workerUrl, size, hungTimeoutMs: 400, cancelGraceMs: 200, maxChunksInFlight: 2, ...extra });
  after(() => p.stop());
  return p;
}

function producedAt(s: Int16Array): number {
  return new Float64Array(s.buffer, s.byteOffset + 8, 1)[0]!;
}

const run = (p: SynthesisWorkerPool, request: FakeRequest, options: { signal?: AbortSignal; onChunk?: (s: Int16Array) => void | Promise<void> } = {}) =>
  p.run(request, { onChunk: options.onChunk ?? (() => undefined), signal: options.signal });

function rejectsWithKind(promise: Promise<unknown>, kind: string): Promise<void> {
  return assert.rejects(promise, (err: unknown) => err instanceof SynthesisEngineError && err.kind === kind);
}

test('delivers every chunk in order and reports counts', async () => {
  const p = pool(1);
  const ready = await p.start();
  assert.equal(ready.sampleRateHz, 1000);
  const seen: number[] = [];
  const result = await run(p, { mode: 'ok', chunks: 10 }, { onChunk: (s) => { seen.push(s[0]!); } });
  assert.deepEqual(seen, [...Array(10).keys()]);
  assert.equal(result.sampleCount, 80);
  assert.deepEqual({ ...p.stats(), }, { workers: 1, busy: 0, queued: 0, started: 1, completed: 1, cancelled: 0, failed: 0, replaced: 0 });
});

test('a slow consumer pauses the synthesiser instead of letting chunks pile up', async () => {
  const p = pool(1);
  await p.start();
  const consumedAt: number[] = [];
  const produced: number[] = [];
  await run(p, { mode: 'ok', chunks: 12 }, {
    onChunk: async (s) => {
      produced.push(producedAt(s));
      await new Promise((r) => setTimeout(r, 40));
      consumedAt.push(Date.now());
    },
  });
  // With 2 chunks allowed in flight, chunk k cannot be produced before chunk k-3 was consumed.
  for (let k = 3; k < 12; k++) {
    assert.ok(produced[k]! >= consumedAt[k - 3]! - 2, `chunk ${k} produced ${consumedAt[k - 3]! - produced[k]!} ms before chunk ${k - 3} was consumed`);
  }
});

test('aborting a running job stops it quickly and keeps the worker', async () => {
  const p = pool(1);
  await p.start();
  const controller = new AbortController();
  let chunks = 0;
  const started = Date.now();
  const job = run(p, { mode: 'ok', chunks: 100_000 }, {
    signal: controller.signal,
    onChunk: async () => {
      chunks++;
      if (chunks === 3) controller.abort(new Error('client went away'));
      await new Promise((r) => setTimeout(r, 1));
    },
  });
  await assert.rejects(job, /client went away/);
  assert.ok(Date.now() - started < 1000);
  assert.ok(chunks <= 4, `${chunks} chunks delivered after abort`);
  await run(p, { mode: 'ok', chunks: 2 });
  assert.equal(p.stats().cancelled, 1);
  assert.equal(p.stats().replaced, 0);
});

test('aborting a queued job removes it without running it', async () => {
  const p = pool(1);
  await p.start();
  const slow = run(p, { mode: 'ok', chunks: 5 }, { onChunk: () => new Promise((r) => setTimeout(r, 20)) });
  const controller = new AbortController();
  const queued = run(p, { mode: 'ok', chunks: 5 }, { signal: controller.signal });
  assert.equal(p.stats().queued, 1);
  controller.abort(new Error('never mind'));
  await assert.rejects(queued, /never mind/);
  await slow;
  assert.equal(p.stats().started, 1);
});

test('a hung worker is terminated and replaced; only its job fails', async () => {
  const p = pool(2);
  await p.start();
  const hung = run(p, { mode: 'hang', chunks: 5 });
  const fine = run(p, { mode: 'ok', chunks: 5 });
  await rejectsWithKind(hung, 'hung');
  await fine;
  await run(p, { mode: 'ok', chunks: 3 });
  await run(p, { mode: 'ok', chunks: 3 });
  assert.equal(p.stats().replaced, 1);
  assert.equal(p.stats().failed, 1);
});

test('a worker that dies mid-job is replaced; a synthesiser error is just a failure', async () => {
  const p = pool(1);
  await p.start();
  await rejectsWithKind(run(p, { mode: 'exit', chunks: 5 }), 'crashed');
  await rejectsWithKind(run(p, { mode: 'exit', chunks: 5 }), 'crashed');
  assert.equal(p.stats().replaced, 2);
  await rejectsWithKind(run(p, { mode: 'throw', chunks: 5 }), 'failed');
  assert.equal(p.stats().replaced, 2, 'a caught error does not cost a worker');
  const ok = await run(p, { mode: 'ok', chunks: 4 });
  assert.equal(ok.sampleCount, 32);
});

test('a synthesiser that ignores the cancel flag is terminated after the grace period', async () => {
  const p = pool(1);
  await p.start();
  const controller = new AbortController();
  const started = Date.now();
  const job = run(p, { mode: 'ignore-cancel', chunks: 1000 }, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('stop now')), 50);
  await assert.rejects(job, /stop now/);
  assert.ok(Date.now() - started < 1500, 'cancelled within the grace period');
  assert.equal(p.stats().replaced, 1);
  assert.equal(p.stats().cancelled, 1);
  await run(p, { mode: 'ok', chunks: 2 });
});

test('a full queue rejects new work as overloaded; stop fails what is left', async () => {
  const p = pool(1, { maxQueuedJobs: 1 });
  await p.start();
  const first = run(p, { mode: 'ok', chunks: 4 }, { onChunk: () => new Promise((r) => setTimeout(r, 30)) });
  const second = run(p, { mode: 'ok', chunks: 1 });
  await rejectsWithKind(run(p, { mode: 'ok', chunks: 1 }), 'overloaded');
  const outcomes = Promise.allSettled([first, second]);
  await p.stop();
  const [a, b] = await outcomes;
  assert.ok(a.status === 'rejected' && a.reason instanceof SynthesisEngineError && a.reason.kind === 'stopped', `the running job ended with ${a.status === 'rejected' ? String(a.reason) : 'success'}`);
  assert.ok(b.status === 'rejected' && b.reason instanceof SynthesisEngineError && b.reason.kind === 'stopped');
  await rejectsWithKind(run(p, { mode: 'ok', chunks: 1 }), 'stopped');
});
