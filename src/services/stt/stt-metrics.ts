/** SpeechToText's Prometheus series (names the dashboard and alert rules in deploy/ query), registered on the registry passed in. */

import * as prom from 'prom-client';

import type { RecognizerPool } from '../../engines/pocketsphinx/index.js';

/** Why a call was turned away before or while decoding. */
export type SttRejectReason = 'queue_full' | 'queue_timeout' | 'unavailable' | 'idle' | 'invalid_argument' | 'too_long';

/** The series, ready to observe. */
export interface SttMetrics {
  /** Seconds of audio decoded. */
  audioSeconds: prom.Counter;
  /** Decoder time over audio time, per call. */
  realTimeFactor: prom.Histogram;
  /** Time spent waiting for a free decoder, seconds. */
  queueWait: prom.Histogram;
  /** Calls turned away, by reason. */
  rejected: prom.Counter<'reason'>;
}

/** Registers the STT series on `registry`; the decoder gauge reads `pool` at scrape time. */
export function createSttMetrics(registry: prom.Registry, pool: () => RecognizerPool | undefined): SttMetrics {
  const decoders = new prom.Gauge({
    name: 'gatehouse_stt_decoders',
    help: 'Speech decoders by state: busy (held by a call or resetting) or idle (warm, waiting)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = pool()?.stats();
      this.set({ state: 'busy' }, s?.busy ?? 0);
      this.set({ state: 'idle' }, s?.idle ?? 0);
    },
  });
  void decoders;
  return {
    audioSeconds: new prom.Counter({
      name: 'gatehouse_stt_audio_seconds_total',
      help: 'Seconds of audio recognised',
      registers: [registry],
    }),
    realTimeFactor: new prom.Histogram({
      name: 'gatehouse_stt_real_time_factor',
      help: 'Decoder time divided by audio duration, per call (below 1 is faster than real time)',
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5],
      registers: [registry],
    }),
    queueWait: new prom.Histogram({
      name: 'gatehouse_stt_queue_wait_seconds',
      help: 'Time a call waited for a free speech decoder',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    rejected: new prom.Counter({
      name: 'gatehouse_stt_rejected_total',
      help: 'Speech recognition calls turned away, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
