/**
 * `npx tsx bench/external/paired.ts [--servers bare,gateway] [--rounds 5] [--seconds 4]`: a development aid for a
 * busy machine, not the benchmark of record (that is run.ts, on a quiet one).
 *
 * On a shared machine every figure of run.ts moves with whatever else runs, and servers measured one after the
 * other see different neighbours. Here the two servers run at the same time, both pinned to the same core, each
 * loaded by its own Go client (both clients on the other core): whatever slows one slows the other, so the ratio
 * of their CPU per call (from /proc, over the same window) holds still when absolute figures do not. Throughput
 * is not compared: the two servers share one core. Prints each round's CPU per call and the median ratio.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchToken, makeBenchFiles } from './bench-files.js';
import { BENCH_CACHE_DIR, buildLoadClient, runLoad } from './load-client.js';
import { captureReply, LIST_VOICES, LIST_VOICES_RU } from './reply-capture.js';
import { clockTicksPerSecond, startServerProcess, type ServerProcess } from './server-process.js';
import { allServers, selectServers, type RunFiles, type ServerSpec } from './servers.js';

const { values: flags } = parseArgs({
  options: {
    servers: { type: 'string', default: 'bare,gateway' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '5' },
    inflight: { type: 'string', default: '10' },
    'client-cpu': { type: 'string', default: '0' },
    'server-cpu': { type: 'string', default: '1' },
  },
});
if (availableParallelism() < 2) throw new Error('the clients and the servers need a core each');
const pair = selectServers(flags.servers);
if (pair.length !== 2)
  throw new Error(
    `--servers must name two servers (from: ${allServers()
      .map((s) => s.name)
      .join(', ')})`,
  );
const [a, b] = pair as [ServerSpec, ServerSpec];
const files = makeBenchFiles();
const token = benchToken(files);
const run: RunFiles = { dir: files.dir, replyFile: join(files.dir, 'list-voices-ru.bin'), streamReplyFile: join(files.dir, 'stream-message.bin') };
const logDir = join(BENCH_CACHE_DIR, `paired-${process.pid}`);
mkdirSync(logDir, { recursive: true });
const started: ServerProcess[] = [];
process.on('exit', () => {
  rmSync(files.dir, { recursive: true, force: true });
});
const binary = buildLoadClient();
const start = (spec: ServerSpec, tag: string, files: RunFiles = run) =>
  startServerProcess(spec.command(files), { cpu: Number(flags['server-cpu']), logFile: join(logDir, `${spec.name.replace(':', '-')}-${tag}.log`) });

try {
  // The stream reply does not exist before the capture: the capturing gateway hosts the stream service on nothing.
  const capture = await start(allServers()[1]!, 'capture', { ...run, streamReplyFile: '/dev/null' });
  started.push(capture);
  await captureReply(binary, capture, files, token, run);
  await capture.stop();
  started.length = 0;
  const ticks = clockTicksPerSecond();
  const ratios: number[] = [];
  console.log(`paired: ${a.name} and ${b.name} together on core ${flags['server-cpu']}, ${flags.rounds} rounds of ${flags.seconds} s`);
  for (let round = 1; round <= Number(flags.rounds); round++) {
    const servers = await Promise.all([start(a, `r${round}`), start(b, `r${round}`)]);
    started.push(...servers);
    const load = (server: ServerProcess, spec: ServerSpec) =>
      runLoad(binary, {
        target: `127.0.0.1:${server.port}`,
        tls: spec.tls,
        certs: files.certs,
        token,
        method: LIST_VOICES,
        request: LIST_VOICES_RU,
        connections: Number(flags.connections),
        inflight: Number(flags.inflight),
        durationMs: Number(flags.seconds) * 1000,
        serverPid: server.pid,
        cpu: Number(flags['client-cpu']),
      });
    const [ra, rb] = await Promise.all([load(servers[0]!, a), load(servers[1]!, b)]);
    await Promise.all(servers.map((server) => server.stop()));
    started.length = 0;
    const usPerCall = (r: typeof ra) => (((r.serverCpuTicks ?? NaN) / ticks) * 1e6) / r.ok;
    const [ua, ub] = [usPerCall(ra), usPerCall(rb)];
    ratios.push(ub / ua);
    console.log(
      `round ${round}: ${a.name} ${ua.toFixed(1)} us/call (${ra.ok} calls), ${b.name} ${ub.toFixed(1)} us/call (${rb.ok} calls), ratio ${(ub / ua).toFixed(3)}`,
    );
  }
  ratios.sort((x, y) => x - y);
  console.log(
    `CPU per call, ${b.name} / ${a.name}: median ${ratios[Math.floor(ratios.length / 2)]!.toFixed(3)} (range ${ratios[0]!.toFixed(3)}-${ratios.at(-1)!.toFixed(3)})`,
  );
} finally {
  await Promise.all(started.map((server) => server.stop()));
  rmSync(logDir, { recursive: true, force: true });
}
