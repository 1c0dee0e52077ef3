/**
 * Worker-thread entry: owns one PocketSphinx decoder, loads and warms it at start, then serves the pool's requests
 * one at a time (they block the thread, which is why this is a worker). See worker-protocol.ts for the messages.
 */

import { parentPort } from 'node:worker_threads';

import { poolWorkerContext } from '../worker-pool/pool-worker.js';
import { PocketSphinxDecoder } from './decoder.js';
import { makeWarmUpAudio } from './warm-up-audio.js';
import type { DecoderWorkerData, WorkerMessage, WorkerRequest, WorkerResult } from './worker-protocol.js';

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('decoder-worker must run in a worker thread');
  const pool = poolWorkerContext<DecoderWorkerData>();
  const data = pool.data;
  // Called between 2048-sample blocks: a heartbeat for the pool's hang watchdog, and the pool's abort flag.
  const shouldAbort = (): boolean => {
    pool.heartbeat();
    return pool.aborted();
  };
  const post = (m: WorkerMessage): void => port.postMessage(m);

  let decoder: PocketSphinxDecoder;
  const t0 = performance.now();
  try {
    decoder = new PocketSphinxDecoder(data.decoder);
  } catch (err) {
    pool.initError(err instanceof Error ? err.message : String(err));
    return;
  }
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  decoder.begin({ interimResults: true, maxAlternatives: 2 });
  decoder.process(makeWarmUpAudio());
  decoder.finish();
  pool.ready({ loadMs, warmUpMs: performance.now() - t1 });

  const handle = (req: WorkerRequest): WorkerResult => {
    switch (req.op) {
      case 'begin':
        decoder.begin(req.config);
        return { op: 'begin' };
      case 'process': {
        const { aborted, ...outcome } = decoder.process(req.samples, shouldAbort);
        return { op: 'process', outcome, aborted };
      }
      case 'finish':
        return { op: 'finish', ...decoder.finish() };
      case 'reset':
        // The pool clears its abort flag when it hands this decoder to the next session.
        decoder.reset();
        return { op: 'reset' };
      case 'close':
        decoder.close();
        return { op: 'close' };
    }
  };

  port.on('message', (req: WorkerRequest) => {
    try {
      post({ type: 'reply', seq: req.seq, ok: true, result: handle(req) });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      post({ type: 'reply', seq: req.seq, ok: false, error: { name: e.name, message: e.message, field: (e as { field?: string }).field } });
    }
    if (req.op === 'close') port.close();
  });
}

main();
