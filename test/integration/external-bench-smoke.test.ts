import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { benchToken, makeBenchFiles, type BenchFiles } from '../../bench/external/bench-files.js';
import { BENCH_STREAM_MESSAGES, BENCH_STREAM_METHOD } from '../../bench/external/bench-stream-service.js';
import { buildLoadClient, fetchReplies, runLoad, type LoadOptions } from '../../bench/external/load-client.js';
import { startServerProcess, type ServerProcess } from '../../bench/external/server-process.js';
import { allServers, DEBIAN_PYTHON, type RunFiles } from '../../bench/external/servers.js';
import { loadServiceDefinition } from '../../src/proto/load.js';

/**
 * Keeps the external benchmark (bench/external/) from rotting unnoticed: builds
 * the Go load client, starts the very server processes the benchmark starts
 * (the gateway with the bench config, bare grpc-js, Python grpcio), and drives
 * each for a moment with the real client, mTLS, token and traceparent
 * included. It asserts that calls completed with OK and carried what they
 * should; it never asserts timings.
 */

const LIST_VOICES = '/gatehouse.tts.v1.TextToSpeech/ListVoices';
const LIST_VOICES_RU = Buffer.from('0a027275', 'hex');
const hasGo = existsSync('/usr/share/gocode/src/google.golang.org/grpc');
const hasPythonGrpc = existsSync(DEBIAN_PYTHON);
// Skipped only on a developer machine without the Debian packages; CI installs them, so there it fails instead.
const skip = (hasGo && hasPythonGrpc) || process.env.CI ? false : 'needs golang-google-grpc-dev and python3-grpcio (.ci/install-system-deps.sh)';

describe('external benchmark harness (smoke)', { skip, timeout: 240_000 }, () => {
  let files: BenchFiles;
  let run: RunFiles;
  let token: string;
  let binary: string;
  const started: ServerProcess[] = [];

  before(() => {
    files = makeBenchFiles();
    token = benchToken(files);
    mkdirSync(join(files.dir, 'logs'));
    run = { dir: files.dir, replyFile: join(files.dir, 'reply.bin'), streamReplyFile: join(files.dir, 'stream.bin') };
    binary = buildLoadClient();
  });
  after(async () => {
    await Promise.all(started.map((server) => server.stop()));
    rmSync(files.dir, { recursive: true, force: true });
  });

  async function start(name: string): Promise<ServerProcess> {
    const spec = allServers().find((server) => server.name === name)!;
    const server = await startServerProcess(spec.command(run), { logFile: join(files.dir, 'logs', `${name}.log`) });
    started.push(server);
    return server;
  }

  function options(server: ServerProcess, tls: LoadOptions['tls']): LoadOptions {
    return {
      target: `127.0.0.1:${server.port}`,
      tls,
      certs: files.certs,
      token,
      method: LIST_VOICES,
      request: LIST_VOICES_RU,
      connections: 2,
      inflight: 2,
      warmupMs: 0,
      serverPid: server.pid,
    };
  }

  function assertAllOk(result: Awaited<ReturnType<typeof runLoad>>) {
    assert.deepEqual(result.errors, {}, `first error: ${result.firstError}`);
    assert.ok(result.ok > 0, 'no call completed');
    assert.equal(result.calls, result.ok);
    assert.equal(typeof result.serverCpuTicks, 'number');
  }

  it('the gateway answers the Go client with OK: ListVoices with the Russian voices, and the 10-message stream', async () => {
    // The gateway also hosts the bench stream; its message is any bytes here (the benchmark uses the ListVoices reply).
    writeFileSync(run.streamReplyFile, Buffer.from('bench stream message'));
    const gateway = await start('gateway');
    const [reply] = await fetchReplies(binary, options(gateway, 'mtls'));
    const decoded = loadServiceDefinition('gatehouse.tts.v1.TextToSpeech').ListVoices!.responseDeserialize(reply!) as {
      voices: { languageCodes: string[] }[];
    };
    assert.ok(decoded.voices.length > 0, 'ListVoices(ru) listed no voice');
    assert.ok(
      decoded.voices.every((voice) => voice.languageCodes.some((code) => code.startsWith('ru'))),
      JSON.stringify(decoded.voices),
    );
    writeFileSync(run.replyFile, reply!);

    const unary = await runLoad(binary, { ...options(gateway, 'mtls'), durationMs: 1000 });
    assertAllOk(unary);
    assert.equal(unary.messages, unary.ok);

    const stream = await runLoad(binary, {
      ...options(gateway, 'mtls'),
      kind: 'server-stream',
      method: BENCH_STREAM_METHOD,
      expectMessages: BENCH_STREAM_MESSAGES,
      durationMs: 500,
    });
    assertAllOk(stream);
    assert.equal(stream.messages, stream.ok * BENCH_STREAM_MESSAGES);
  });

  it('the gateway refuses the Go client without a token, so OK above means the chain let it through', async () => {
    const gateway = started[0]!;
    const refused = await runLoad(binary, { ...options(gateway, 'mtls'), token: undefined, durationMs: 200 });
    assert.equal(refused.ok, 0);
    assert.ok((refused.errors.Unauthenticated ?? 0) > 0, JSON.stringify(refused.errors));
  });

  it('bare grpc-js and Python grpcio serve the same reply bytes to the Go client', async () => {
    for (const [name, tls] of [
      ['bare', 'mtls'],
      ['python', 'mtls'],
      ['python-plaintext', 'plaintext'],
    ] as const) {
      const server = await start(name);
      const [reply] = await fetchReplies(binary, options(server, tls));
      assert.deepEqual(reply, readFileSync(run.replyFile), name);
      assertAllOk(await runLoad(binary, { ...options(server, tls), durationMs: 300 }));
      await server.stop();
    }
  });
});
