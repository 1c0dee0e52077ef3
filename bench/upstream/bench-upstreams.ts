/**
 * The upstreams bench/upstream.bench.ts can put behind the gateway (`--upstream go|python`), and the contract
 * files they and the gateway need. Both serve helloworld.Greeter plaintext on 127.0.0.1:0, answer the bench's
 * request with the same reply bytes (SayHelloStreamReply: {@link STREAM_MESSAGES} of them) and report SERVING
 * on grpc.health.v1; both announce their port on fd 3, as bench/external/server-process.ts expects.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGoProgram } from '../external/go-build.js';
import type { ServerCommand } from '../external/server-process.js';
import { DEBIAN_PYTHON } from '../external/servers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Messages of one SayHelloStreamReply, from either upstream (echo-upstream/main.go hard-codes the same 10). */
export const STREAM_MESSAGES = 10;

/** Files made once per run in the bench's temporary directory. */
export interface ContractFiles {
  /** helloworld.proto's descriptor set, for the gateway's route. */
  descriptorSet: string;
  /** protoc's Python modules (helloworld_pb2), for the Python upstream. */
  pythonDir: string;
}

/** One upstream the bench can measure. */
export interface BenchUpstream {
  /** Its `--upstream` name. */
  name: string;
  /** What the report calls it. */
  label: string;
  /** How to start it (builds the Go one on first use). */
  command(contracts: ContractFiles): ServerCommand;
}

/** Every upstream, in the order a `go,python` run measures them. */
export const BENCH_UPSTREAMS: readonly BenchUpstream[] = [
  {
    name: 'go',
    label: 'Go echo server (bench/upstream/echo-upstream/, canned reply bytes: next to no cost)',
    command: () => ({ command: buildGoProgram(join(ROOT, 'bench/upstream/echo-upstream')), args: [] }),
  },
  {
    name: 'python',
    label: 'Python grpcio sync server, 10 workers (bench/upstream/greeter_upstream.py, protobuf per call)',
    command: (contracts) => ({
      command: DEBIAN_PYTHON,
      args: [join(ROOT, 'bench/upstream/greeter_upstream.py'), '--gen', contracts.pythonDir, '--stream-replies', String(STREAM_MESSAGES)],
    }),
  },
];

/** The upstreams named in a comma-separated `--upstream` list, in the list's order; throws on an unknown name. */
export function selectUpstreams(list: string): BenchUpstream[] {
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new Error(`--upstream names none; choose from: ${BENCH_UPSTREAMS.map((u) => u.name).join(', ')}`);
  return [...new Set(names)].map((name) => {
    const found = BENCH_UPSTREAMS.find((upstream) => upstream.name === name);
    if (!found) throw new Error(`unknown upstream "${name.slice(0, 40)}"; choose from: ${BENCH_UPSTREAMS.map((u) => u.name).join(', ')}`);
    return found;
  });
}

/** Runs protoc once on test/fixtures/upstream/helloworld.proto: the descriptor set and the Python modules, under `dir`. */
export function makeContractFiles(dir: string): ContractFiles {
  const descriptorSet = join(dir, 'helloworld.binpb');
  const pythonDir = join(dir, 'python-gen');
  mkdirSync(pythonDir, { recursive: true });
  execFileSync('protoc', [
    `-I${join(ROOT, 'test/fixtures/upstream')}`,
    '--include_imports',
    `--descriptor_set_out=${descriptorSet}`,
    `--python_out=${pythonDir}`,
    'helloworld.proto',
  ]);
  return { descriptorSet, pythonDir };
}
