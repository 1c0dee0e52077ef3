/**
 * Turns the external benchmark's samples (one per server per round) into the
 * figures it prints: medians over rounds with their spread, and ratios to the
 * bare server taken within each round, where both saw the same machine.
 */
import type { H2loadResult } from './h2load.js';
import type { LoadResult } from './load-client.js';
import type { ServerSpec } from './servers.js';

/** Everything measured on one fresh server process in one round. */
export interface Sample {
  round: number;
  server: string;
  /** Unary ListVoices, C connections x M calls in flight. */
  loaded: LoadResult;
  /** Unary, one call in flight. */
  latency?: LoadResult;
  /** The 10-message server stream, C x M in flight. */
  stream?: LoadResult;
  /** h2load's view of the same unary load (plaintext servers). */
  h2load?: H2loadResult;
  /** Resident memory after start-up (every service warm), before any call, bytes. */
  rssIdleBytes: number;
  /** Resident memory after every measurement on this process, bytes. */
  rssAfterBytes: number;
}

/** A figure over rounds: the median and the range it moved in. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** One server's summarised figures. */
export interface ServerSummary {
  name: string;
  label: string;
  callsPerSec: Spread;
  /** callsPerSec / bare's callsPerSec, per round. */
  ratioToBare?: Spread;
  /** Server CPU (utime + stime) per OK call, microseconds. */
  cpuMicrosPerCall: Spread;
  cpuRatioToBare?: Spread;
  /** Share of one core the server and the client used over the loaded window (0..1+). */
  serverCpuShare: Spread;
  clientCpuShare: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  latencyP50Ms?: Spread;
  latencyP99Ms?: Spread;
  streamsPerSec?: Spread;
  streamRatioToBare?: Spread;
  streamCpuMicros?: Spread;
  streamP50Ms?: Spread;
  streamP99Ms?: Spread;
  h2loadCallsPerSec?: Spread;
  rssIdleMb: Spread;
  rssAfterMb: Spread;
  /** Non-OK calls over every measurement of this server, by code; a valid run has none. */
  errors: Record<string, number>;
  firstError?: string;
}

/** Median (upper middle for an even count) and range; robust to the odd round another process disturbed. */
export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Summarises every server's samples; ratios divide by the bare server's sample of the same round. */
export function summarize(samples: Sample[], servers: ServerSpec[], ticksPerSecond: number): ServerSummary[] {
  const bareByRound = new Map(samples.filter((s) => s.server === 'bare').map((s) => [s.round, s]));
  const cpuMicros = (result: LoadResult) => (((result.serverCpuTicks ?? NaN) / ticksPerSecond) * 1e6) / result.ok;
  const share = (ticks: number | undefined, result: LoadResult) => (ticks ?? NaN) / ticksPerSecond / result.seconds;
  const optional = (values: (number | undefined)[]) => {
    const present = values.filter((value): value is number => value !== undefined && Number.isFinite(value));
    return present.length > 0 ? spread(present) : undefined;
  };
  return servers.flatMap((server) => {
    const mine = samples.filter((s) => s.server === server.name);
    if (mine.length === 0) return [];
    const bare = (s: Sample) => bareByRound.get(s.round);
    const errors: Record<string, number> = {};
    let firstError: string | undefined;
    for (const s of mine) {
      for (const result of [s.loaded, s.latency, s.stream]) {
        if (!result) continue;
        for (const [code, count] of Object.entries(result.errors)) errors[code] = (errors[code] ?? 0) + count;
        firstError ??= result.firstError || undefined;
      }
    }
    return [
      {
        name: server.name,
        label: server.label,
        callsPerSec: spread(mine.map((s) => s.loaded.callsPerSec)),
        ratioToBare: optional(mine.map((s) => (bare(s) ? s.loaded.callsPerSec / bare(s)!.loaded.callsPerSec : undefined))),
        cpuMicrosPerCall: spread(mine.map((s) => cpuMicros(s.loaded))),
        cpuRatioToBare: optional(mine.map((s) => (bare(s) ? cpuMicros(s.loaded) / cpuMicros(bare(s)!.loaded) : undefined))),
        serverCpuShare: spread(mine.map((s) => share(s.loaded.serverCpuTicks, s.loaded))),
        clientCpuShare: spread(mine.map((s) => share(s.loaded.clientCpuTicks, s.loaded))),
        p50Ms: spread(mine.map((s) => s.loaded.p50Ms)),
        p99Ms: spread(mine.map((s) => s.loaded.p99Ms)),
        latencyP50Ms: optional(mine.map((s) => s.latency?.p50Ms)),
        latencyP99Ms: optional(mine.map((s) => s.latency?.p99Ms)),
        streamsPerSec: optional(mine.map((s) => s.stream?.callsPerSec)),
        streamRatioToBare: optional(mine.map((s) => (s.stream && bare(s)?.stream ? s.stream.callsPerSec / bare(s)!.stream!.callsPerSec : undefined))),
        streamCpuMicros: optional(mine.map((s) => (s.stream ? cpuMicros(s.stream) : undefined))),
        streamP50Ms: optional(mine.map((s) => s.stream?.p50Ms)),
        streamP99Ms: optional(mine.map((s) => s.stream?.p99Ms)),
        h2loadCallsPerSec: optional(mine.map((s) => s.h2load?.callsPerSec)),
        rssIdleMb: spread(mine.map((s) => s.rssIdleBytes / 2 ** 20)),
        rssAfterMb: spread(mine.map((s) => s.rssAfterBytes / 2 ** 20)),
        errors,
        firstError,
      },
    ];
  });
}

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const fixed = (digits: number) => (value: number) => value.toFixed(digits);

/** `median (min-max)`, or `-` when not measured. */
function show(value: Spread | undefined, format: (n: number) => string, withRange = true): string {
  if (!value) return '-';
  return withRange && value.min !== value.max ? `${format(value.median)} (${format(value.min)}-${format(value.max)})` : format(value.median);
}

/** The report as Markdown tables: unary under load, one call in flight, the stream, memory. */
export function formatReport(summaries: ServerSummary[]): string {
  const lines: string[] = [];
  const table = (header: string[], rows: string[][]) => {
    lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`), '');
  };
  const pct = (value: number) => `${Math.round(value * 100)}%`;
  table(
    [
      'server',
      'calls/s',
      'x bare',
      'CPU us/call',
      'CPU x bare',
      'p50 / p99 ms loaded',
      'p50 / p99 ms 1 in flight',
      'RSS idle / after MB',
      'server / client CPU',
    ],
    summaries.map((s) => [
      s.label,
      show(s.callsPerSec, int),
      show(s.ratioToBare, fixed(2)),
      show(s.cpuMicrosPerCall, int),
      show(s.cpuRatioToBare, fixed(2)),
      `${show(s.p50Ms, fixed(1), false)} / ${show(s.p99Ms, fixed(1), false)}`,
      s.latencyP50Ms ? `${show(s.latencyP50Ms, fixed(2), false)} / ${show(s.latencyP99Ms, fixed(2), false)}` : '-',
      `${show(s.rssIdleMb, int, false)} / ${show(s.rssAfterMb, int, false)}`,
      `${pct(s.serverCpuShare.median)} / ${pct(s.clientCpuShare.median)}`,
    ]),
  );
  const streams = summaries.filter((s) => s.streamsPerSec);
  if (streams.length > 0) {
    table(
      ['10-message server stream', 'streams/s', 'x bare', 'CPU us/stream', 'p50 / p99 ms'],
      streams.map((s) => [
        s.label,
        show(s.streamsPerSec, int),
        show(s.streamRatioToBare, fixed(2)),
        show(s.streamCpuMicros, int),
        `${show(s.streamP50Ms, fixed(1), false)} / ${show(s.streamP99Ms, fixed(1), false)}`,
      ]),
    );
  }
  for (const s of summaries.filter((s) => s.h2loadCallsPerSec)) {
    lines.push(`h2load cross-check, ${s.label}: ${show(s.h2loadCallsPerSec, int)} calls/s (Go client: ${show(s.callsPerSec, int, false)})`);
  }
  for (const s of summaries) {
    const total = Object.values(s.errors).reduce((a, b) => a + b, 0);
    if (total > 0) lines.push(`NOT OK: ${s.label}: ${total} calls failed ${JSON.stringify(s.errors)}; first: ${s.firstError}`);
  }
  return lines.join('\n');
}
