import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForHealth } from '../helpers/health-client.js';
import { generateUpstreamContracts, startPythonUpstream, type PythonUpstream, type UpstreamContracts } from '../helpers/python-upstream.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const TLS_NAME = { 'grpc.ssl_target_name_override': 'localhost' };
const COUNT = 2000;
const SIZE = 16 * 1024;

describe('a slow reader of a routed server stream', () => {
  let contracts: UpstreamContracts;
  let upstream: PythonUpstream;
  let gw: TestGateway;

  before(async () => {
    contracts = generateUpstreamContracts();
    upstream = await startPythonUpstream(contracts);
    gw = await startGateway({
      overrides: {
        upstreams: { py: { targets: [upstream.target] } },
        routes: [{ service: 'helloworld.Greeter', upstream: 'py', descriptorSetFile: contracts.descriptorSetFile }],
        'policy.services': { 'helloworld.Greeter': {} },
      },
    });
    await waitForHealth(gw.target, gw.credentials('alice'), 'SERVING', 10_000, 'helloworld.Greeter');
  });

  after(async () => {
    await gw?.close();
    await upstream?.kill();
    contracts?.remove();
  });

  test('pauses the upstream instead of buffering in the gateway, and resumes when the client reads again', async () => {
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), TLS_NAME) as unknown as grpc.Client & {
      SayHelloStreamReply(request: { name: string }): grpc.ClientReadableStream<{ message: string }>;
    };
    global.gc?.();
    const baseline = process.memoryUsage();
    const stream = greeter.SayHelloStreamReply({ name: `many:${COUNT}:${SIZE}` });
    let received = 0;
    stream.on('data', () => {
      received++;
      if (received === 1) stream.pause();
    });
    const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    // The client reads one message, then nothing for a while: 32 MiB wait upstream.
    await sleep(1500);
    const seen = (await upstream.calls()).find((c) => c.name === `many:${COUNT}:${SIZE}`);
    const sentWhilePaused = seen?.sent ?? 0;
    const grown = process.memoryUsage().arrayBuffers - baseline.arrayBuffers;
    // Flow-control windows and a few queued messages on each hop: a few MiB at most, far from the 32 MiB on offer.
    assert.ok(sentWhilePaused < COUNT / 4, `the upstream sent ${sentWhilePaused} of ${COUNT} messages to a paused reader`);
    assert.ok(grown < 16 * 1024 * 1024, `buffers grew by ${Math.round(grown / 1048576)} MiB while the reader was paused`);
    stream.resume();
    const status = await ended;
    assert.equal(status.code, grpc.status.OK);
    assert.equal(received, COUNT);
    greeter.close();
    process.stdout.write(
      `# slow reader: upstream sent ${sentWhilePaused} of ${COUNT} x ${SIZE} B while paused; buffers +${Math.round(grown / 1024)} KiB\n`,
    );
  });

  test("an upstream that stops reading a client stream pauses the client, not the gateway's memory", async () => {
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), TLS_NAME) as unknown as grpc.Client & {
      SayHelloClientStream(
        callback: (error: grpc.ServiceError | null, reply?: { message: string }) => void,
      ): grpc.ClientWritableStream<{ name: string }>;
    };
    const filler = 'y'.repeat(SIZE);
    const stallMs = 1500;
    let reply: { message: string } | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const call = greeter.SayHelloClientStream((error, value) => {
        if (error) return reject(error);
        reply = value;
        resolve();
      });
      call.write({ name: `stall:${stallMs}` });
      let written = 0;
      const startedAt = Date.now();
      let writtenDuringStall = -1;
      const pump = () => {
        while (written < COUNT) {
          // Writes the client library accepted while the upstream was not reading.
          if (writtenDuringStall < 0 && Date.now() - startedAt > stallMs - 300) writtenDuringStall = written;
          written++;
          if (!call.write({ name: filler })) return void call.once('drain', pump);
        }
        call.end();
        acceptedWhileStalled = writtenDuringStall < 0 ? written : writtenDuringStall;
      };
      pump();
    });
    let acceptedWhileStalled = 0;
    await done;
    greeter.close();
    assert.equal(reply?.message, `Hello, ${COUNT}`);
    assert.ok(
      acceptedWhileStalled < COUNT / 4,
      `the client could write ${acceptedWhileStalled} of ${COUNT} messages while the upstream read nothing`,
    );
    process.stdout.write(`# stalled upstream: the client could write ${acceptedWhileStalled} of ${COUNT} x ${SIZE} B while it read nothing\n`);
  });
});
