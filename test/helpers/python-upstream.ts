import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { channelCredentials } from '../../src/client/grpc-client.js';
import { PROTO_DIR } from '../../src/proto/load.js';

/** Debian's Python with python3-grpcio (the pyenv `python3` on PATH lacks it). */
const PYTHON = '/usr/bin/python3';
/** The contracts the upstream serves, and its server. */
export const UPSTREAM_FIXTURES = fileURLToPath(new URL('../fixtures/upstream/', import.meta.url));
const UPSTREAM_PROTOS = ['cheesefarm.proto', 'helloworld.proto', 'search.proto'];

/** Generated Python modules and a descriptor set of the upstream's contracts, in a temporary directory. */
export interface UpstreamContracts {
  readonly dir: string;
  /** `protoc --include_imports --descriptor_set_out` of the three contracts (a route's descriptorSetFile). */
  readonly descriptorSetFile: string;
  /** A grpc-js client constructor per service (`helloworld.Greeter`, ...), built from the same protos. */
  clientFor(service: string): grpc.ServiceClientConstructor;
  remove(): void;
}

/** Runs protoc (Python messages for the upstream, a descriptor set for routes) on the fixture protos. */
export function generateUpstreamContracts(): UpstreamContracts {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-upstream-'));
  // grpc.health.v1 and grpc.reflection.v1 under other file names: grpc/… modules would shadow the grpc package.
  copyFileSync(join(PROTO_DIR, 'grpc/health/v1/health.proto'), join(dir, 'upstream_health.proto'));
  copyFileSync(join(PROTO_DIR, 'grpc/reflection/v1/reflection.proto'), join(dir, 'upstream_reflection.proto'));
  const descriptorSetFile = join(dir, 'upstream.binpb');
  execFileSync('protoc', [
    `-I${UPSTREAM_FIXTURES}`,
    `-I${dir}`,
    '-I/usr/include',
    `--python_out=${dir}`,
    '--include_imports',
    `--descriptor_set_out=${descriptorSetFile}`,
    ...UPSTREAM_PROTOS,
    'upstream_health.proto',
    'upstream_reflection.proto',
  ]);
  const definition = protoLoader.loadSync(
    UPSTREAM_PROTOS.map((p) => join(UPSTREAM_FIXTURES, p)),
    { keepCase: true, longs: Number, enums: String, defaults: true },
  );
  return {
    dir,
    descriptorSetFile,
    clientFor: (service) => grpc.makeClientConstructor(definition[service] as grpc.ServiceDefinition, service),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One call the upstream saw. */
export interface SeenCall {
  method: string;
  /** [key, value] pairs as grpcio handed them to the handler (binary values as `base64:...`). */
  metadata: [string, string][];
  /** Seconds left of the call's deadline when the handler started (from grpc-timeout); null without one. */
  timeRemaining: number | null;
  /** Epoch seconds when the handler started. */
  at: number;
  name?: string;
  /** Subject alternative names of the client certificate (mTLS upstreams). */
  peerIdentity?: string[];
  /** Epoch seconds when a `wait` stream saw its cancellation. */
  cancelledAt?: number;
  /** Replies a `many:` stream had sent when last seen. */
  sent?: number;
  /** Messages a client stream read (SayHelloClientStream). */
  received?: number;
}

/** A running Python upstream. */
export interface PythonUpstream {
  readonly port: number;
  readonly target: string;
  readonly child: ChildProcess;
  /** Every call the upstream's handlers saw, oldest first. */
  calls(): Promise<SeenCall[]>;
  /** Sets the grpc.health.v1 status it reports (Watch streams see it at once). */
  setHealth(status: 'SERVING' | 'NOT_SERVING'): Promise<void>;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
}

/** Options of {@link startPythonUpstream}. */
export interface PythonUpstreamOptions {
  /** Port to listen on; default a free one. */
  port?: number;
  /** Every Greeter.SayHello fails UNAVAILABLE while its health stays SERVING (a broken endpoint health checks miss). */
  unavailable?: boolean;
  /** Serve mTLS with this certificate and key, requiring client certificates signed by `ca` (PEM files). */
  mtls?: {
    cert: string;
    key: string;
    ca: string /** The test's own client pair for the control service. */;
    controlCert: string;
    controlKey: string;
  };
}

/** Starts `upstream_server.py` on a free loopback port; resolves once it listens. */
export async function startPythonUpstream(contracts: UpstreamContracts, options: PythonUpstreamOptions = {}): Promise<PythonUpstream> {
  const args = [
    join(UPSTREAM_FIXTURES, 'upstream_server.py'),
    '--gen',
    contracts.dir,
    '--port',
    String(options.port ?? 0),
    ...(options.unavailable ? ['--unavailable'] : []),
    ...(options.mtls ? ['--mtls', options.mtls.cert, options.mtls.key, options.mtls.ca] : []),
  ];
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`python upstream exited with ${code}: ${stderr.join('')}`)));
  });
  const bound = (JSON.parse(line) as { port: number }).port;
  const target = `127.0.0.1:${bound}`;
  const control = options.mtls
    ? new grpc.Client(target, channelCredentials({ caFile: options.mtls.ca, certFile: options.mtls.controlCert, keyFile: options.mtls.controlKey }), {
        'grpc.ssl_target_name_override': 'localhost',
      })
    : new grpc.Client(target, grpc.credentials.createInsecure());
  const ask = (method: string, body: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      control.makeUnaryRequest(
        `/upstreamtest.Control/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(JSON.stringify(body)),
        { deadline: Date.now() + 5000 },
        (error, reply) => (error ? reject(error) : resolve(JSON.parse(reply!.toString()))),
      );
    });
  return {
    port: bound,
    target,
    child,
    calls: async () => (await ask('Calls', {})) as SeenCall[],
    setHealth: async (status) => {
      await ask('SetHealth', { status });
    },
    async kill() {
      control.close();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
