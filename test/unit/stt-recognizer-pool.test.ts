import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import {
  createRecognizerPool,
  RecognizerRequestError,
  type RecognizerPool,
  type RecognizerSession,
  type UtteranceResult,
} from '../../src/engines/pocketsphinx/index.js';
import { WorkerPoolError } from '../../src/engines/worker-pool/index.js';

const poolError =
  (kind: WorkerPoolError['kind'], pattern = /./) =>
  (e: unknown) =>
    e instanceof WorkerPoolError && e.kind === kind && pattern.test(e.message);

const GOFORWARD = '/usr/share/pocketsphinx/test/data/goforward.raw';

function readRaw(path: string): Int16Array {
  const b = readFileSync(path);
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

async function untilIdle(pool: RecognizerPool, idle: number, limitMs = 2000): Promise<number> {
  const t0 = performance.now();
  while (pool.stats().idle < idle) {
    if (performance.now() - t0 > limitMs) throw new Error(`pool not idle within ${limitMs} ms: ${JSON.stringify(pool.stats())}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - t0;
}

async function recognizeAll(session: RecognizerSession, samples: Int16Array): Promise<UtteranceResult[]> {
  const out = await session.process(samples);
  return [...out.finals, ...(await session.finish())];
}

/** Takes a decoder from the pool and checks it recognises goforward.raw exactly, as a fresh one would. */
async function assertRecognisesGoForward(pool: RecognizerPool, audio: Int16Array): Promise<void> {
  const session = await pool.acquire();
  try {
    await session.begin({});
    assert.equal((await recognizeAll(session, audio))[0]!.transcript, 'go forward ten meters');
  } finally {
    session.release();
  }
}

describe('PocketSphinx recognizer pool', () => {
  let pool: RecognizerPool;
  const audio = readRaw(GOFORWARD);

  before(async () => {
    // A generous clean-up grace: on a starved machine a reset may take over the 1 s default, and a replaced decoder
    // would make the tests after it wait for a restart. Whether clean-up is prompt is asserted where it matters.
    pool = createRecognizerPool({ workers: 2, queueMax: 1, queueTimeoutMs: 200, cancelGraceMs: 5000 });
    await pool.start();
  });
  after(async () => {
    await pool.stop();
  });

  it('starts warm: every decoder idle and available', () => {
    assert.deepEqual(pool.stats(), { workers: 2, starting: 0, idle: 2, busy: 0, down: 0, queued: 0, replaced: 0, available: true });
  });

  it('recognises goforward.raw exactly, with word times and confidences', async () => {
    const session = await pool.acquire();
    try {
      await session.begin({});
      const finals = await recognizeAll(session, audio);
      assert.equal(finals.length, 1);
      const u = finals[0]!;
      assert.equal(u.transcript, 'go forward ten meters');
      assert.deepEqual(
        u.words.map((w) => w.word),
        ['go', 'forward', 'ten', 'meters'],
      );
      // Same segmentation as `pocketsphinx_continuous -time yes` prints for this file (frames of 10 ms).
      assert.deepEqual(
        u.words.map((w) => [w.startMs, w.endMs]),
        [
          [460, 640],
          [640, 1170],
          [1170, 1530],
          [1530, 2120],
        ],
      );
      for (const w of u.words) assert.ok(w.confidence > 0 && w.confidence <= 1, `${w.word} confidence ${w.confidence}`);
      assert.ok(u.confidence > 0.5 && u.confidence <= 1);
      assert.ok(session.decodeMs > 0 && Math.abs(session.audioMs - 2786.25) < 0.01);
    } finally {
      session.release();
    }
  });

  it('gives the same answer in every session (live CMN is reset per session)', async () => {
    const results: string[] = [];
    for (let i = 0; i < 3; i++) {
      const session = await pool.acquire();
      try {
        await session.begin({});
        const finals = await recognizeAll(session, audio);
        // Three empty answers would also be "the same answer": each session must really hear the words.
        assert.deepEqual(
          finals.map((u) => u.transcript),
          ['go forward ten meters'],
          `session ${i}`,
        );
        results.push(JSON.stringify(finals[0]));
      } finally {
        session.release();
      }
    }
    assert.equal(results.length, 3);
    assert.equal(new Set(results).size, 1, results.join('\n'));
  });

  it('streams 100 ms chunks: interim hypotheses grow before the final result', async () => {
    const session = await pool.acquire();
    try {
      await session.begin({ interimResults: true });
      const events: string[] = [];
      let finalAt = -1;
      for (let i = 0; i < audio.length; i += 1600) {
        const out = await session.process(audio.subarray(i, i + 1600));
        if (out.interim) events.push(out.interim);
        for (const f of out.finals) {
          finalAt = events.length;
          events.push(`FINAL ${f.transcript}`);
        }
      }
      for (const f of await session.finish()) events.push(`FINAL ${f.transcript}`);
      const finals = events.filter((e) => e.startsWith('FINAL'));
      assert.deepEqual(finals, ['FINAL go forward ten meters']);
      assert.ok(finalAt > 3, `expected interim results before the final, got ${JSON.stringify(events)}`);
      assert.ok(events.slice(0, finalAt).some((e) => e.startsWith('go')));
    } finally {
      session.release();
    }
  });

  it('returns distinct n-best alternatives when asked', async () => {
    const session = await pool.acquire();
    try {
      await session.begin({ maxAlternatives: 3 });
      const [u] = await recognizeAll(session, audio);
      assert.equal(u!.transcript, 'go forward ten meters');
      assert.equal(u!.alternatives.length, 2);
      const all = [u!.transcript, ...u!.alternatives.map((a) => a.transcript)];
      assert.equal(new Set(all).size, 3);
    } finally {
      session.release();
    }
  });

  it('constrains recognition to a JSGF grammar and rejects bad grammars and unknown words', async () => {
    const session = await pool.acquire();
    try {
      await session.begin({ grammarJsgf: '#JSGF V1.0;\ngrammar nav;\npublic <cmd> = go (forward | back) (one | two | ten) meters;' });
      const [u] = await recognizeAll(session, audio);
      assert.equal(u!.transcript, 'go forward ten meters');
    } finally {
      session.release();
    }
    const bad = async (config: Parameters<RecognizerSession['begin']>[0], field: string, pattern: RegExp): Promise<void> => {
      const s = await pool.acquire();
      try {
        await assert.rejects(s.begin(config), (e: unknown) => e instanceof RecognizerRequestError && e.field === field && pattern.test(e.message));
      } finally {
        s.release();
      }
    };
    await bad({ grammarJsgf: 'public <a> = go;' }, 'config.grammar_jsgf', /#JSGF/);
    await bad({ grammarJsgf: '#JSGF V1.0;\ngrammar g;\npublic <a> = go zorblax;' }, 'config.grammar_jsgf', /zorblax/);
    await bad({ phrases: ['go forward', 'blurfle'] }, 'config.speech_contexts', /blurfle/);
    // The decoder went back to the language model after the grammar session.
    await assertRecognisesGoForward(pool, audio);
  });

  it('queues when all decoders are busy, then fails with queue_full or queue_timeout', async () => {
    const a = await pool.acquire();
    const b = await pool.acquire();
    try {
      const waiting = pool.acquire();
      assert.equal(pool.stats().queued, 1);
      await assert.rejects(pool.acquire(), poolError('queue_full', /all 2 pocketsphinx workers are busy and 1 callers are already waiting/));
      await assert.rejects(waiting, poolError('queue_timeout', /stayed busy for 200 ms/));
      // A waiter is served as soon as a decoder comes back.
      const served = pool.acquire();
      a.release();
      const c = await served;
      c.release();
    } finally {
      a.release();
      b.release();
    }
    await untilIdle(pool, 2);
  });

  it('a cancelled session gives its decoder back at once, mid-decode, reset', async () => {
    const long = new Int16Array(audio.length * 8);
    for (let i = 0; i < 8; i++) long.set(audio, i * audio.length);
    const ac = new AbortController();
    const session = await pool.acquire(ac.signal);
    await session.begin({ interimResults: true });
    const pending = session.process(long);
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(pending, (e: unknown) => e === ac.signal.reason, "the call fails with its signal's reason");
    // Decoding all of it takes seconds; stopping takes one block plus a reset (bounded loosely: the CI machine is shared).
    const replaced = pool.stats().replaced;
    const ms = await untilIdle(pool, 2, 5000);
    assert.ok(ms < 1000, `decoder came back after ${ms} ms`);
    assert.equal(pool.stats().replaced, replaced, 'it stopped and reset by itself');
    // The decoder it used works normally for the next caller.
    for (let i = 0; i < 2; i++) await assertRecognisesGoForward(pool, audio);
  });

  it('a waiter whose signal fires leaves the queue', async () => {
    const a = await pool.acquire();
    const b = await pool.acquire();
    const ac = new AbortController();
    const waiting = pool.acquire(ac.signal);
    ac.abort(new Error('caller gone'));
    await assert.rejects(waiting, /caller gone/);
    assert.equal(pool.stats().queued, 0);
    a.release();
    b.release();
    await untilIdle(pool, 2);
  });
});

describe('PocketSphinx recognizer pool without its Debian packages', () => {
  it('reports a missing model as unavailable, naming pocketsphinx-en-us', async () => {
    const pool = createRecognizerPool({ workers: 1, modelDir: '/nonexistent/model' });
    try {
      await assert.rejects(pool.start(), poolError('unavailable', /apt-get install pocketsphinx-en-us/));
      assert.equal(pool.stats().available, false);
      assert.match(pool.stats().unavailableReason ?? '', /pocketsphinx-en-us/);
      await assert.rejects(pool.acquire(), poolError('unavailable', /pocketsphinx-en-us/));
    } finally {
      await pool.stop();
    }
  });

  it('reports a missing library as unavailable, naming libpocketsphinx3', async () => {
    const pool = createRecognizerPool({ workers: 1, libraries: { pocketsphinx: 'libpocketsphinx-missing.so.3' } });
    try {
      await assert.rejects(pool.start(), poolError('unavailable', /apt-get install libpocketsphinx3/));
    } finally {
      await pool.stop();
    }
  });
});
