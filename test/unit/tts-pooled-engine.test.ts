/** A pooled synthesis engine on the shared worker pool, driven with the fake synthesiser in test/fixtures. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPooledEngine, type PooledEngineOptions } from '../../src/engines/pooled-engine.js';
import type { TtsEngine } from '../../src/engines/tts-engine.js';
import { WorkerPoolError } from '../../src/engines/worker-pool/index.js';
import type { FakeRequest } from '../fixtures/tts-fake-synthesis-worker.js';

const workerUrl = new URL('../fixtures/tts-fake-synthesis-worker.ts', import.meta.url);

function engine(workers: number, extra: Partial<PooledEngineOptions> = {}): TtsEngine {
  const e = createPooledEngine(
    { name: 'fake', workerUrl, toWorkerRequest: (_voice, request) => JSON.parse(request.text) as FakeRequest },
    { workers, hungTimeoutMs: 400, cancelGraceMs: 200, maxChunksInFlight: 2, bufferBytesPerCall: 0, maxPausedWorkers: workers, ...extra },
  );
  after(() => e.stop());
  return e;
}

function producedAt(s: Int16Array): number {
  return new Float64Array(s.buffer, s.byteOffset + 8, 1)[0]!;
}

const run = (e: TtsEngine, request: FakeRequest, options: { signal?: AbortSignal; onChunk?: (s: Int16Array) => void | Promise<void> } = {}) =>
  e.synthesize(
    { voiceName: 'fake', text: JSON.stringify(request), speakingRate: 1, pitchSemitones: 0 },
    { onChunk: options.onChunk ?? (() => undefined), signal: options.signal },
  );

function rejectsWithKind(promise: Promise<unknown>, kind: WorkerPoolError['kind']): Promise<void> {
  return assert.rejects(promise, (err: unknown) => err instanceof WorkerPoolError && err.kind === kind && err.engine === 'fake');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('delivers every chunk in order and reports counts', async () => {
  const e = engine(1);
  await e.start();
  assert.equal(e.voices()[0]!.naturalSampleRateHz, 1000);
  const seen: number[] = [];
  const result = await run(
    e,
    { mode: 'ok', chunks: 10 },
    {
      onChunk: (s) => {
        seen.push(s[0]!);
      },
    },
  );
  assert.deepEqual(seen, [...Array(10).keys()]);
  assert.equal(result.sampleCount, 80);
  assert.deepEqual(e.stats(), {
    workers: 1,
    busy: 0,
    idle: 1,
    available: true,
    queued: 0,
    started: 1,
    completed: 1,
    cancelled: 0,
    failed: 0,
    replaced: 0,
    bufferedBytes: 0,
  });
});

test('without a buffer, a slow consumer pauses the synthesiser instead of letting chunks pile up', async () => {
  const e = engine(1);
  await e.start();
  const consumedAt: number[] = [];
  const produced: number[] = [];
  await run(
    e,
    { mode: 'ok', chunks: 12 },
    {
      onChunk: async (s) => {
        produced.push(producedAt(s));
        await sleep(40);
        consumedAt.push(Date.now());
      },
    },
  );
  // With 2 chunks allowed in flight, chunk k cannot be produced before chunk k-3 was consumed.
  for (let k = 3; k < 12; k++) {
    assert.ok(
      produced[k]! >= consumedAt[k - 3]! - 2,
      `chunk ${k} produced ${consumedAt[k - 3]! - produced[k]!} ms before chunk ${k - 3} was consumed`,
    );
  }
});

test('with a buffer, a reader that does not read holds memory, not the worker; the buffer is bounded', async () => {
  // 16 bytes a chunk: room for 5 chunks per call and 8 in all.
  const e = engine(1, { bufferBytesPerCall: 80, bufferBytesTotal: 128, idleTimeoutMs: 60_000 });
  await e.start();
  let letRead!: () => void;
  const reading = new Promise<void>((r) => (letRead = r));
  const slow = run(e, { mode: 'ok', chunks: 4 }, { onChunk: () => reading });
  // The whole synthesis fits the buffer: the worker is free while the reader has read nothing.
  await assert.doesNotReject(run(e, { mode: 'ok', chunks: 3 }), 'a second call is served meanwhile');
  assert.equal(e.stats().busy, 0);
  assert.equal(e.stats().bufferedBytes, 4 * 16);
  // A longer one exceeds its share: it pauses holding the worker, within the total.
  const paused = run(e, { mode: 'ok', chunks: 20 }, { onChunk: () => reading });
  await sleep(200);
  assert.equal(e.stats().busy, 1, 'a reader further behind than its buffer pauses the synthesiser');
  assert.ok(e.stats().bufferedBytes <= 128, `${e.stats().bufferedBytes} bytes buffered`);
  letRead();
  assert.equal((await slow).sampleCount, 32);
  assert.equal((await paused).sampleCount, 160);
  assert.equal(e.stats().bufferedBytes, 0);
});

test('past maxPausedWorkers, a reader further behind than its buffer fails at once instead of taking a worker', async () => {
  const e = engine(2, { bufferBytesPerCall: 32, maxPausedWorkers: 1, idleTimeoutMs: 60_000 });
  await e.start();
  let letRead!: () => void;
  const reading = new Promise<void>((r) => (letRead = r));
  const first = run(e, { mode: 'ok', chunks: 20 }, { onChunk: () => reading });
  await sleep(200);
  assert.equal(e.stats().busy, 1, 'the first slow reader may pause its worker');
  const t0 = performance.now();
  await assert.rejects(
    run(e, { mode: 'ok', chunks: 20 }, { onChunk: () => reading }),
    (err: unknown) => err instanceof WorkerPoolError && err.kind === 'idle' && /fell more than 32 bytes of audio behind/.test(err.message),
  );
  assert.ok(performance.now() - t0 < 1000, 'the second fails at once');
  await assert.doesNotReject(run(e, { mode: 'ok', chunks: 3 }), 'the spared worker serves others');
  letRead();
  assert.equal((await first).sampleCount, 160);
  assert.equal(e.stats().replaced, 0, 'the refused synthesis stopped when asked');
});

test('a main thread that stalls does not take replies waiting in its queue for a hung worker', async () => {
  const e = engine(1, { hungTimeoutMs: 400 });
  await e.start();
  const job = run(e, { mode: 'ok', chunks: 3 });
  await sleep(0); // the job is posted
  // Stall in the check phase, so the next loop turn runs the watchdog (timers) before reading replies (poll).
  await new Promise<void>((r) => setImmediate(r));
  const end = Date.now() + 1200;
  while (Date.now() < end); // the event loop stalls (a long GC pause, a starved machine) while the worker answers
  assert.equal((await job).sampleCount, 24);
  assert.equal(e.stats().replaced, 0);
});

test('aborting a running job stops it quickly and keeps the worker', async () => {
  const e = engine(1);
  await e.start();
  const controller = new AbortController();
  let chunks = 0;
  const started = Date.now();
  const job = run(
    e,
    { mode: 'ok', chunks: 100_000 },
    {
      signal: controller.signal,
      onChunk: async () => {
        chunks++;
        if (chunks === 3) controller.abort(new Error('client went away'));
        await sleep(1);
      },
    },
  );
  await assert.rejects(job, /client went away/);
  assert.ok(Date.now() - started < 1000);
  assert.ok(chunks <= 4, `${chunks} chunks delivered after abort`);
  await run(e, { mode: 'ok', chunks: 2 });
  assert.equal(e.stats().cancelled, 1);
  assert.equal(e.stats().replaced, 0);
});

test('aborting a queued job removes it without running it', async () => {
  const e = engine(1);
  await e.start();
  const slow = run(e, { mode: 'ok', chunks: 5 }, { onChunk: () => sleep(20) });
  await sleep(0);
  const controller = new AbortController();
  const queued = run(e, { mode: 'ok', chunks: 5 }, { signal: controller.signal });
  await sleep(0);
  assert.equal(e.stats().queued, 1);
  controller.abort(new Error('never mind'));
  await assert.rejects(queued, /never mind/);
  await slow;
  assert.equal(e.stats().started, 1);
});

test('a hung worker is terminated and replaced; only its job fails', async () => {
  const e = engine(2);
  await e.start();
  const hung = run(e, { mode: 'hang', chunks: 5 });
  const fine = run(e, { mode: 'ok', chunks: 5 });
  await rejectsWithKind(hung, 'hung');
  await fine;
  await run(e, { mode: 'ok', chunks: 3 });
  await run(e, { mode: 'ok', chunks: 3 });
  assert.equal(e.stats().replaced, 1);
  assert.equal(e.stats().failed, 1);
});

test('a worker that dies mid-job is replaced; a synthesiser error is just a failure', async () => {
  const e = engine(1, { queueTimeoutMs: 60_000 });
  await e.start();
  await rejectsWithKind(run(e, { mode: 'exit', chunks: 5 }), 'crashed');
  await rejectsWithKind(run(e, { mode: 'exit', chunks: 5 }), 'crashed');
  assert.equal(e.stats().replaced, 2);
  await rejectsWithKind(run(e, { mode: 'throw', chunks: 5 }), 'failed');
  assert.equal(e.stats().replaced, 2, 'a caught error does not cost a worker');
  const ok = await run(e, { mode: 'ok', chunks: 4 });
  assert.equal(ok.sampleCount, 32);
});

test('a synthesiser that ignores the cancel flag is terminated after the grace period', async () => {
  const e = engine(1, { queueTimeoutMs: 60_000 });
  await e.start();
  const controller = new AbortController();
  const started = Date.now();
  const job = run(e, { mode: 'ignore-cancel', chunks: 1000 }, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('stop now')), 50);
  await assert.rejects(job, /stop now/);
  assert.ok(Date.now() - started < 500, 'the call ends at once');
  await sleep(600);
  assert.equal(e.stats().replaced, 1, 'the worker that did not stop within cancelGraceMs was replaced');
  assert.equal(e.stats().cancelled, 1);
  await run(e, { mode: 'ok', chunks: 2 });
});

test('a full queue rejects new work as queue_full; stop fails what is left', async () => {
  const e = engine(1, { queueMax: 1 });
  await e.start();
  const first = run(e, { mode: 'ok', chunks: 4 }, { onChunk: () => sleep(30) });
  await sleep(0);
  const second = run(e, { mode: 'ok', chunks: 1 });
  await sleep(0);
  await rejectsWithKind(run(e, { mode: 'ok', chunks: 1 }), 'queue_full');
  const outcomes = Promise.allSettled([first, second]);
  await e.stop();
  const [a, b] = await outcomes;
  assert.ok(
    a.status === 'rejected' && a.reason instanceof WorkerPoolError && a.reason.kind === 'stopped',
    `the running job ended with ${a.status === 'rejected' ? String(a.reason) : 'success'}`,
  );
  assert.ok(b.status === 'rejected' && b.reason instanceof WorkerPoolError && b.reason.kind === 'stopped');
  await rejectsWithKind(run(e, { mode: 'ok', chunks: 1 }), 'stopped');
});
