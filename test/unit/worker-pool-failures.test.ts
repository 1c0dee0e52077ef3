/**
 * One failure matrix for both engines on the shared worker pool: eSpeak NG synthesis and PocketSphinx recognition,
 * each real, in a worker wrapped with fault injection (test/fixtures/worker-faults.ts). Every row runs against
 * both through the same harness interface and must produce the same gRPC status (code and ErrorInfo reason) from
 * the pool's one mapping, and leave the pool serving.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { status as Status } from '@grpc/grpc-js';

import { createEspeakEngine } from '../../src/engines/espeak/espeak-engine.js';
import { createRecognizerPool, type RecognizerPool, type RecognizerSession } from '../../src/engines/pocketsphinx/index.js';
import type { TtsEngine } from '../../src/engines/tts-engine.js';
import { WorkerPoolError, workerPoolErrorToStatus, type WorkerPoolConfig } from '../../src/engines/worker-pool/index.js';
import { GatehouseError } from '../../src/errors.js';
import { faultAudio, START_FAILS_ENV, type WorkerFault } from '../fixtures/worker-faults.js';

/** Short limits so every row ends in a second or two; one worker so "all busy" is one call. */
const POOL: Omit<WorkerPoolConfig, 'workers'> & { workers: 1 } = {
  workers: 1,
  queueMax: 1,
  queueTimeoutMs: 400,
  // Long enough for a real decoder's longest native call on a loaded, shared machine.
  hungTimeoutMs: 8000,
  idleTimeoutMs: 600,
  cancelGraceMs: 3000,
  startTimeoutMs: 60_000,
  respawnDelayMs: 100,
  respawnMaxDelayMs: 400,
};

/** What a row can do with an engine, whichever it is. */
interface Harness {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): { idle: number; busy: number; queued: number; replaced: number; available: boolean };
  /** One ordinary call; `fault` makes its worker crash or hang, `long` makes it take a second or more. */
  call(options?: { fault?: WorkerFault; long?: boolean; signal?: AbortSignal }): Promise<void>;
  /** Starts a call that keeps its worker busy until `letGo`, which then waits for the call to end well. */
  hold(): Promise<{ letGo(): Promise<void> }>;
  /** A call whose client stops: a reader that never reads (synthesis), a sender that never sends (recognition). */
  stall(): Promise<void>;
}

const LONG_TEXT = Array.from({ length: 12 }, (_, i) => `Sentence ${i + 1} of a long text that keeps the synthesiser busy for a while.`).join(' ');

function espeakHarness(): Harness {
  const engine: TtsEngine = createEspeakEngine({
    ...POOL,
    // No buffer: a reader that stops pauses the synthesiser at once, so `hold` and `stall` really hold the worker.
    bufferBytesPerCall: 0,
    maxPausedWorkers: 1,
    workerUrl: new URL('../fixtures/faulty-espeak-worker.ts', import.meta.url),
  });
  const synthesize = (text: string, signal: AbortSignal | undefined, onChunk: () => void | Promise<void>) =>
    engine.synthesize({ voiceName: 'en-US', text, speakingRate: 1, pitchSemitones: 0 }, { signal, onChunk });
  return {
    name: 'eSpeak NG synthesis',
    start: () => engine.start(),
    stop: () => engine.stop(),
    stats: () => engine.stats(),
    async call({ fault, long, signal } = {}) {
      const result = await synthesize(fault ? `__${fault}__` : long ? LONG_TEXT : 'Hello there.', signal, () => undefined);
      assert.ok(result.sampleCount > 1000, `${result.sampleCount} samples`);
    },
    async hold() {
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      let first!: () => void;
      const started = new Promise<void>((r) => (first = r));
      const call = synthesize(LONG_TEXT, undefined, () => {
        first();
        return gate;
      });
      await started;
      return {
        letGo: async () => {
          open();
          await call;
        },
      };
    },
    async stall() {
      await synthesize(LONG_TEXT, undefined, () => new Promise<void>(() => undefined));
    },
  };
}

function pocketsphinxHarness(): Harness {
  const pool: RecognizerPool = createRecognizerPool({ ...POOL, workerUrl: new URL('../fixtures/faulty-decoder-worker.ts', import.meta.url) });
  const raw = readFileSync('/usr/share/pocketsphinx/test/data/goforward.raw');
  const audio = new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const longAudio = new Int16Array(audio.length * 8);
  for (let i = 0; i < 8; i++) longAudio.set(audio, i * audio.length);
  const open = async (signal?: AbortSignal): Promise<RecognizerSession> => {
    const session = await pool.acquire(signal);
    await session.begin({});
    return session;
  };
  return {
    name: 'PocketSphinx recognition',
    start: () => pool.start(),
    stop: () => pool.stop(),
    stats: () => pool.stats(),
    async call({ fault, long, signal } = {}) {
      const session = await open(signal);
      try {
        const outcome = await session.process(fault ? faultAudio(fault) : long ? longAudio : audio);
        const finals = [...outcome.finals, ...(await session.finish())];
        assert.equal(finals[0]?.transcript, 'go forward ten meters');
      } finally {
        session.release();
      }
    },
    async hold() {
      const session = await open();
      return {
        letGo: async () => session.release(),
      };
    },
    async stall() {
      const session = await open();
      try {
        await sleep(POOL.idleTimeoutMs + 400);
        await session.process(audio);
      } finally {
        session.release();
      }
    },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The status a client would see for what a call threw. */
function statusOf(error: unknown): { code: Status; reason: string } {
  const e = error instanceof WorkerPoolError ? workerPoolErrorToStatus(error) : error;
  assert.ok(e instanceof GatehouseError, `a WorkerPoolError or GatehouseError, not ${String(error)}`);
  return { code: e.code, reason: e.reason };
}

async function failure(call: Promise<unknown>): Promise<{ code: Status; reason: string }> {
  try {
    await call;
  } catch (error) {
    return statusOf(error);
  }
  assert.fail('the call succeeded');
}

async function until(what: string, condition: () => boolean, limitMs: number): Promise<void> {
  const end = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > end) assert.fail(`${what} within ${limitMs} ms`);
    await sleep(10);
  }
}

/** Waits until the (replacement) worker is warm: a start takes seconds on a busy machine, longer than queueTimeoutMs. */
const warm = (h: Harness) => until('the worker is warm', () => h.stats().idle === 1, 30_000);

/** A client's cancellation, as the call context's signal carries it. */
const cancelled = () => new GatehouseError('CANCELLED', 'the client cancelled the call');

interface Row {
  name: string;
  /** The status both engines must produce. */
  expected: { code: Status; reason: string };
  /** Drives the failure and returns the status seen; then checks the pool serves again. */
  run(h: Harness): Promise<{ code: Status; reason: string }>;
}

const ROWS: Row[] = [
  {
    name: 'worker crash: the call fails, the worker is replaced, the next call is served',
    expected: { code: Status.UNAVAILABLE, reason: 'ENGINE_WORKER_FAILED' },
    async run(h) {
      const replaced = h.stats().replaced;
      const seen = await failure(h.call({ fault: 'exit' }));
      assert.equal(h.stats().replaced, replaced + 1);
      await warm(h);
      await h.call();
      return seen;
    },
  },
  {
    name: 'worker hang: the watchdog replaces it after hungTimeoutMs, the next call is served',
    expected: { code: Status.UNAVAILABLE, reason: 'ENGINE_WORKER_FAILED' },
    async run(h) {
      const replaced = h.stats().replaced;
      const t0 = performance.now();
      const seen = await failure(h.call({ fault: 'hang' }));
      const ms = performance.now() - t0;
      assert.ok(ms >= POOL.hungTimeoutMs && ms < POOL.hungTimeoutMs + 5000, `declared hung after ${ms.toFixed(0)} ms`);
      assert.equal(h.stats().replaced, replaced + 1);
      await warm(h);
      await h.call();
      return seen;
    },
  },
  {
    name: 'slow reader: a client that stops loses its worker after idleTimeoutMs; the worker is reused, not replaced',
    expected: { code: Status.RESOURCE_EXHAUSTED, reason: 'ENGINE_IDLE_TIMEOUT' },
    async run(h) {
      const replaced = h.stats().replaced;
      const seen = await failure(h.stall());
      await until('the worker is back', () => h.stats().busy === 0, 5000);
      await h.call();
      assert.equal(h.stats().replaced, replaced, 'it stopped when asked; no worker was killed');
      return seen;
    },
  },
  {
    name: 'queue full: with the worker busy and the queue full, the next call is turned away at once',
    expected: { code: Status.RESOURCE_EXHAUSTED, reason: 'ENGINE_BUSY' },
    async run(h) {
      const held = await h.hold();
      const queued = h.call();
      queued.catch(() => undefined);
      assert.equal(h.stats().queued, 1);
      const t0 = performance.now();
      const seen = await failure(h.call());
      assert.ok(performance.now() - t0 < 100, 'turned away without waiting');
      // The queued call waited queueTimeoutMs and got the same status.
      assert.deepEqual(await failure(queued), seen);
      await held.letGo();
      await h.call();
      return seen;
    },
  },
  {
    name: 'abort while queued: the caller leaves the queue with its own status; the call never runs',
    expected: { code: Status.CANCELLED, reason: 'CANCELLED' },
    async run(h) {
      const held = await h.hold();
      const controller = new AbortController();
      const queued = h.call({ signal: controller.signal });
      assert.equal(h.stats().queued, 1);
      controller.abort(cancelled());
      const seen = await failure(queued);
      assert.equal(h.stats().queued, 0);
      await held.letGo();
      await h.call();
      return seen;
    },
  },
  {
    name: 'abort while running: the call ends at once, the worker stops by itself and serves the next call',
    expected: { code: Status.CANCELLED, reason: 'CANCELLED' },
    async run(h) {
      const replaced = h.stats().replaced;
      const controller = new AbortController();
      const running = h.call({ signal: controller.signal, long: true });
      await until('the call is running', () => h.stats().busy === 1, 2000);
      await sleep(50);
      const t0 = performance.now();
      controller.abort(cancelled());
      const seen = await failure(running);
      assert.ok(performance.now() - t0 < 200, 'the call ended at once');
      await until('the worker is free', () => h.stats().busy === 0, 3000);
      await h.call();
      assert.equal(h.stats().replaced, replaced);
      return seen;
    },
  },
  {
    name: 'respawn failure: calls get UNAVAILABLE while the worker cannot start; the pool recovers by itself',
    expected: { code: Status.UNAVAILABLE, reason: 'ENGINE_UNAVAILABLE' },
    async run(h) {
      process.env[START_FAILS_ENV] = '1';
      let seen: { code: Status; reason: string };
      try {
        assert.deepEqual(await failure(h.call({ fault: 'exit' })), { code: Status.UNAVAILABLE, reason: 'ENGINE_WORKER_FAILED' });
        // The replacement fails to start: with no worker left, calls are told so at once.
        await until('the replacement failed to start', () => !h.stats().available, 30_000);
        seen = await failure(h.call());
        await sleep(3 * POOL.respawnMaxDelayMs); // several more failed attempts: backoff, never giving up
        assert.deepEqual(await failure(h.call()), seen);
      } finally {
        delete process.env[START_FAILS_ENV];
      }
      const t0 = performance.now();
      for (;;) {
        try {
          await h.call();
          break;
        } catch (error) {
          assert.deepEqual(statusOf(error), seen, 'only UNAVAILABLE until the worker is back');
          assert.ok(performance.now() - t0 < 20_000, 'the pool recovered within 20 s');
          await sleep(100);
        }
      }
      return seen;
    },
  },
];

for (const make of [espeakHarness, pocketsphinxHarness]) {
  const h = make();
  describe(`worker pool failure matrix: ${h.name}`, () => {
    before(() => h.start());
    after(() => h.stop());
    for (const row of ROWS) {
      it(row.name, async () => {
        await warm(h);
        assert.deepEqual(await row.run(h), row.expected);
      });
    }
  });
}
