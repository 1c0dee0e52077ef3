import type * as grpc from '@grpc/grpc-js';
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
    upstream = spawn(buildGoProgram(join(UPSTREAM_FIXTURES, 'go-greeter')), ['-descriptor-set', contracts.descriptorSetFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: upstream.stdout! }).once('line', resolve);
      upstream.once('exit', (code) => reject(new Error(`go-greeter exited with ${code}`)));
    });
    const { port } = JSON.parse(line) as { port: number };
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
