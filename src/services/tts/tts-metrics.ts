/** TextToSpeech metrics, declared on the registry passed in (never the global one). */

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TtsEngine } from '../../engines/tts-engine.js';

/** The service's metric handles. */
export interface TtsMetrics {
  /** Seconds of audio delivered, by voice. */
  audioSeconds: Counter<'voice'>;
  /** Synthesis time divided by audio duration, per engine call (below 1 is faster than real time). */
  realTimeFactor: Histogram;
  /** Time a synthesis waited for a free worker. */
  queueWait: Histogram;
  /** Template fragment lookups by result. */
  templateCache: Counter<'result'>;
}

/** Registers the TTS metrics; worker and synthesis-outcome series are read from `engines` at scrape time. */
export function createTtsMetrics(registry: Registry, engines: () => readonly TtsEngine[]): TtsMetrics {
  const audioSeconds = new Counter({
    name: 'gatehouse_tts_audio_seconds_total',
    help: 'Seconds of synthesised audio delivered to clients.',
    labelNames: ['voice'] as const,
    registers: [registry],
  });
  const realTimeFactor = new Histogram({
    name: 'gatehouse_tts_real_time_factor',
    help: 'Synthesis wall time divided by the duration of the audio produced, per engine call.',
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const queueWait = new Histogram({
    name: 'gatehouse_tts_queue_wait_seconds',
    help: 'Time a synthesis waited for a free engine worker.',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const templateCache = new Counter({
    name: 'gatehouse_tts_template_cache_total',
    help: 'Template fragment cache lookups, by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'gatehouse_tts_workers',
    help: 'Engine worker threads, by engine and state.',
    labelNames: ['engine', 'state'] as const,
    registers: [registry],
    collect() {
      for (const engine of engines()) {
        const s = engine.stats();
        this.set({ engine: engine.name, state: 'busy' }, s.busy);
        this.set({ engine: engine.name, state: 'idle' }, s.idle);
      }
    },
  });
  // Engines keep absolute counts; these counters advance by the difference seen at each scrape.
  const seen = new Map<string, number>();
  const advance = (counter: Counter<'engine' | 'outcome'> | Counter<'engine'>, key: string, labels: Record<string, string>, value: number) => {
    const delta = value - (seen.get(key) ?? 0);
    if (delta > 0) (counter as Counter<string>).inc(labels, delta);
    seen.set(key, value);
  };
  new Counter({
    name: 'gatehouse_tts_syntheses_total',
    help: 'Engine syntheses finished, by engine and outcome (completed, cancelled, failed).',
    labelNames: ['engine', 'outcome'] as const,
    registers: [registry],
    collect() {
      for (const engine of engines()) {
        const s = engine.stats();
        for (const outcome of ['completed', 'cancelled', 'failed'] as const) {
          advance(this, `${engine.name}/${outcome}`, { engine: engine.name, outcome }, s[outcome]);
        }
      }
    },
  });
  new Counter({
    name: 'gatehouse_tts_worker_replacements_total',
    help: 'Engine worker threads terminated and replaced (crash, hang, or an ignored cancel).',
    labelNames: ['engine'] as const,
    registers: [registry],
    collect() {
      for (const engine of engines()) advance(this, `${engine.name}/replaced`, { engine: engine.name }, engine.stats().replaced);
    },
  });
  return { audioSeconds, realTimeFactor, queueWait, templateCache };
}
