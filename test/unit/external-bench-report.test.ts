import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadResult } from '../../bench/external/load-client.js';
import { formatReport, spread, summarize, type Sample } from '../../bench/external/report.js';
import { allServers } from '../../bench/external/servers.js';

/** The external benchmark's arithmetic: ratios within a round, medians over rounds, CPU per OK call, failures shown. */

const load = (callsPerSec: number, serverCpuTicks: number, extra: Partial<LoadResult> = {}): LoadResult => ({
  calls: callsPerSec * 2,
  ok: callsPerSec * 2,
  errors: {},
  seconds: 2,
  callsPerSec,
  p50Ms: 1,
  p99Ms: 2,
  messages: callsPerSec * 2,
  serverCpuTicks,
  clientCpuTicks: 50,
  connections: 10,
  inFlight: 100,
  ...extra,
});
const sample = (server: string, round: number, loaded: LoadResult): Sample => ({
  round,
  server,
  loaded,
  rssIdleBytes: 100 * 2 ** 20,
  rssAfterBytes: 120 * 2 ** 20,
});

describe('external benchmark report', () => {
  it('spread: median (upper middle) and range', () => {
    assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3 });
    assert.deepEqual(spread([4, 1, 3, 2]), { median: 3, min: 1, max: 4 });
  });

  it('takes each ratio to bare within its round, and CPU per call from the server ticks over OK calls', () => {
    const servers = allServers().filter((s) => s.name === 'bare' || s.name === 'gateway');
    // Round 2 ran on a slower machine for both: the per-round ratio stays 0.5 where a ratio of medians would not.
    const samples = [
      sample('bare', 1, load(1000, 200)),
      sample('gateway', 1, load(500, 200)),
      sample('bare', 2, load(600, 120)),
      sample('gateway', 2, load(300, 120)),
      sample('bare', 3, load(1000, 200)),
      sample('gateway', 3, load(500, 200)),
    ];
    const [bare, gateway] = summarize(samples, servers, 100);
    assert.deepEqual(gateway!.ratioToBare, { median: 0.5, min: 0.5, max: 0.5 });
    // 200 ticks at 100 Hz = 2 s of CPU over 2000 calls = 1000 us per call; the gateway did half the calls for it.
    assert.equal(bare!.cpuMicrosPerCall.median, 1000);
    assert.equal(gateway!.cpuRatioToBare!.median, 2);
    assert.equal(gateway!.serverCpuShare.median, 1);
    assert.equal(bare!.rssIdleMb.median, 100);
  });

  it('counts failed calls and names them in the report', () => {
    const servers = allServers().filter((s) => s.name === 'bare');
    const failing = load(1000, 200, { calls: 2010, errors: { Unauthenticated: 10 }, firstError: 'token missing' });
    const [summary] = summarize([sample('bare', 1, failing)], servers, 100);
    assert.deepEqual(summary!.errors, { Unauthenticated: 10 });
    assert.match(formatReport([summary!]), /NOT OK: bare grpc-js, mTLS: 10 calls failed \{"Unauthenticated":10\}; first: token missing/);
  });
});
