import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { buildGoProgram } from '../../bench/external/go-build.js';
import { devClientIdentity } from '../../certs/dev-certificates.js';
import { waitForHealth } from '../helpers/health-client.js';
import { generateUpstreamContracts, UPSTREAM_FIXTURES, type UpstreamContracts } from '../helpers/python-upstream.js';
import { reflectionRequest } from '../helpers/reflection.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const hasGo = existsSync('/usr/share/gocode/src/google.golang.org/grpc');
// Skipped only on a developer machine without Debian's Go packages; CI installs them, so there it fails instead.
const skip = hasGo || process.env.CI ? false : 'needs golang-google-grpc-dev (.ci/install-system-deps.sh)';

/** Starts the Go greeter fixture on a free port; resolves once it listens. */
async function startGoGreeter(contracts: UpstreamContracts): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(buildGoProgram(join(UPSTREAM_FIXTURES, 'go-greeter')), ['-descriptor-set', contracts.descriptorSetFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`go-greeter exited with ${code}`)));
  });
  return { child, port: (JSON.parse(line) as { port: number }).port, exited };
}

type Greeter = grpc.Client & {
  SayHello(r: { name: string }, cb: (e: grpc.ServiceError | null, v?: { message: string }) => void): void;
  SayHelloStreamReply(r: { name: string }): grpc.ClientReadableStream<{ message: string }>;
};

describe("a Go upstream with grpc-go's own reflection (v1alpha) and health service", { skip, timeout: 240_000 }, () => {
  let contracts: UpstreamContracts;
  let upstream: ChildProcess;
  let gw: TestGateway;

  before(async () => {
    contracts = generateUpstreamContracts();
    let port: number;
    ({ child: upstream, port } = await startGoGreeter(contracts));
    gw = await startGateway({
      overrides: {
        // No descriptor set: the methods come from the Go server's reflection, which speaks only v1alpha.
        upstreams: { go: { targets: [`127.0.0.1:${port}`], healthCheck: { intervalMs: 200 } } },
        routes: [{ service: 'helloworld.Greeter', upstream: 'go', retry: { idempotentMethods: ['*'] } }],
        'policy.services': { 'helloworld.Greeter': {} },
      },
    });
    assert.equal(await waitForHealth(gw.target, gw.credentials('alice'), 'SERVING', 10_000, 'helloworld.Greeter'), 'SERVING');
  });

  after(async () => {
    await gw?.close();
    upstream?.kill();
    contracts?.remove();
  });

  test('discovered through its reflection, health-checked, called unary and streaming', async () => {
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), {
      'grpc.ssl_target_name_override': 'localhost',
    }) as unknown as Greeter;
    const reply = await new Promise<{ message: string }>((resolve, reject) =>
      greeter.SayHello({ name: 'Gopher' }, (e, v) => (e ? reject(e) : resolve(v!))),
    );
    assert.equal(reply.message, `Hello from Go, Gopher (identity: ${devClientIdentity('alice')})`);
    const streamed: string[] = [];
    for await (const message of greeter.SayHelloStreamReply({ name: 'Gopher' })) streamed.push((message as { message: string }).message);
    assert.equal(streamed.length, 3);
    assert.match(streamed[2]!, /^Hello from Go, Gopher .* #2$/);
    greeter.close();
    // The gateway's reflection (v1) describes what Go's reflection (v1alpha) told it.
    const described = await reflectionRequest(gw.target, gw.credentials('alice'), { file_containing_symbol: 'helloworld.Greeter' });
    assert.ok(described.file_descriptor_response!.file_descriptor_proto[0]!.includes(Buffer.from('helloworld.proto')));
  });
});

describe('a rolling restart: one of two Go endpoints stops gracefully under load', { skip, timeout: 240_000 }, () => {
  let contracts: UpstreamContracts;
  let stopping: Awaited<ReturnType<typeof startGoGreeter>>;
  let staying: Awaited<ReturnType<typeof startGoGreeter>>;
  let gw: TestGateway;

  before(async () => {
    contracts = generateUpstreamContracts();
    [stopping, staying] = await Promise.all([startGoGreeter(contracts), startGoGreeter(contracts)]);
    gw = await startGateway({
      overrides: {
        // No retries configured: SayHello is not marked idempotent, so no failed call may be hidden by one.
        upstreams: {
          pair: { targets: [`127.0.0.1:${stopping.port}`, `127.0.0.1:${staying.port}`], healthCheck: { intervalMs: 200 } },
        },
        routes: [{ service: 'helloworld.Greeter', upstream: 'pair', descriptorSetFile: contracts.descriptorSetFile }],
        'policy.services': { 'helloworld.Greeter': {} },
      },
    });
    assert.equal(await waitForHealth(gw.target, gw.credentials('alice'), 'SERVING', 10_000, 'helloworld.Greeter'), 'SERVING');
  });

  after(async () => {
    await gw?.close();
    stopping?.child.kill();
    staying?.child.kill();
    contracts?.remove();
  });

  test('loses no call: health says NOT_SERVING, GOAWAY lets calls in flight finish, refused ones go to the other', async () => {
    const greeter = new (contracts.clientFor('helloworld.Greeter'))(gw.target, gw.credentials('alice'), {
      'grpc.ssl_target_name_override': 'localhost',
    }) as unknown as Greeter;
    const codes: number[] = [];
    let stopAt = 0;
    const worker = async (id: number) => {
      for (let i = 0; Date.now() < stopAt + 800 || stopAt === 0; i++) {
        // Some calls take 30 ms, so calls are in flight on the stopping endpoint when its GOAWAY comes.
        const name = i % 2 === 0 ? 'slow:30' : `w${id}`;
        codes.push(await new Promise<number>((resolve) => greeter.SayHello({ name }, (error) => resolve(error?.code ?? 0))));
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, id) => worker(id)));
    await new Promise((resolve) => setTimeout(resolve, 400));
    stopAt = Date.now();
    stopping.child.kill('SIGTERM');
    assert.equal(await stopping.exited, 0, 'the Go server stops gracefully');
    await load;
    greeter.close();
    const failed = codes.filter((code) => code !== 0);
    assert.ok(codes.length > 100, `only ${codes.length} calls ran`);
    assert.deepEqual(failed, [], `${failed.length} of ${codes.length} calls failed: ${[...new Set(failed)].map((c) => grpc.status[c])}`);
  });
});
