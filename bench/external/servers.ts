/**
 * The servers the external benchmark compares, and how each is started. Every
 * one answers ListVoices(language_code: "ru") with the same reply bytes.
 */
import { fileURLToPath } from 'node:url';
import { CHAIN_LAYERS, type ChainSelection } from './chain-layers.js';
import type { ServerCommand } from './server-process.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVERS_DIR = fileURLToPath(new URL('./servers/', import.meta.url));
/** Debian's Python, which has python3-grpcio (a pyenv `python3` on PATH may not). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** Files every server reads: the run's directory (certificates) and the reply bytes. */
export interface RunFiles {
  dir: string;
  replyFile: string;
  streamReplyFile: string;
}

/** One server in the comparison and which measurements it takes part in. */
export interface ServerSpec {
  /** Short name for `--servers` and the JSON results. */
  name: string;
  /** What the report calls it. */
  label: string;
  /** Transport security the client uses. */
  tls: 'mtls' | 'plaintext';
  /** Also measured with one call in flight. */
  latency: boolean;
  /** Also measured on the 10-message server stream. */
  stream: boolean;
  /** Also loaded by h2load (plaintext only). */
  h2load: boolean;
  command(files: RunFiles): ServerCommand;
}

/** With `--profile DIR`, every Node server writes a V8 CPU profile of its whole life there (run.ts sets it). */
const profileDir = (): string[] => [
  ...(process.env.GATEHOUSE_BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.GATEHOUSE_BENCH_PROFILE_DIR}`] : []),
  ...(process.env.GATEHOUSE_BENCH_NODE_FLAGS ? process.env.GATEHOUSE_BENCH_NODE_FLAGS.split(' ') : []),
];

const tsx = (script: string, args: string[]): ServerCommand => ({
  command: process.execPath,
  args: [...profileDir(), '--import', 'tsx', `${SERVERS_DIR}${script}`, ...args],
  cwd: REPO_ROOT,
});

function gateway(selection: ChainSelection, label: string, measureAll: boolean): ServerSpec {
  return {
    name: selection === 'all' ? 'gateway' : selection.startsWith('without:') ? selection : `layer:${selection}`,
    label,
    tls: 'mtls',
    latency: measureAll,
    stream: measureAll,
    h2load: false,
    command: (files) => tsx('gateway-server.ts', ['--dir', files.dir, '--layer', selection, '--stream-reply-file', files.streamReplyFile]),
  };
}

/** Every server, in the order each round measures them. */
export function allServers(): ServerSpec[] {
  return [
    {
      name: 'bare',
      label: 'bare grpc-js, mTLS',
      tls: 'mtls',
      latency: true,
      stream: true,
      h2load: false,
      command: (files) => tsx('bare-server.ts', ['--dir', files.dir, '--reply-file', files.replyFile, '--stream-reply-file', files.streamReplyFile]),
    },
    gateway('all', 'Gatehouse, whole chain, mTLS + JWT', true),
    {
      name: 'python',
      label: 'Python grpcio sync, mTLS',
      tls: 'mtls',
      latency: true,
      stream: false,
      h2load: false,
      command: (files) => ({
        command: DEBIAN_PYTHON,
        args: [`${SERVERS_DIR}python_server.py`, '--dir', files.dir, '--reply-file', files.replyFile, '--tls', 'mtls'],
      }),
    },
    {
      name: 'python-plaintext',
      label: 'Python grpcio sync, plaintext',
      tls: 'plaintext',
      latency: true,
      stream: false,
      h2load: true,
      command: (files) => ({
        command: DEBIAN_PYTHON,
        args: [`${SERVERS_DIR}python_server.py`, '--dir', files.dir, '--reply-file', files.replyFile, '--tls', 'plaintext'],
      }),
    },
    gateway('none', 'Gatehouse, no interceptor', false),
    ...CHAIN_LAYERS.map((layer) => gateway(layer, `Gatehouse, ${layer} alone`, false)),
    ...CHAIN_LAYERS.map((layer) => gateway(`without:${layer}`, `Gatehouse, every step but ${layer}`, false)),
  ];
}

/** The servers named in a `--servers` list (`layers`: every single-layer gateway; `without`: every leave-one-out one); default all but the leave-one-out ones. */
export function selectServers(list: string | undefined): ServerSpec[] {
  const all = allServers();
  if (!list) return all.filter((server) => !server.name.startsWith('without:'));
  const wanted = new Set(
    list
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
  const unknown = [...wanted].filter((name) => name !== 'layers' && name !== 'without' && !all.some((server) => server.name === name));
  if (unknown.length > 0) throw new Error(`unknown server ${unknown.join(', ')}; choose from: ${all.map((s) => s.name).join(', ')}, layers, without`);
  return all.filter(
    (server) =>
      wanted.has(server.name) ||
      (wanted.has('layers') && server.name.startsWith('layer:')) ||
      (wanted.has('without') && server.name.startsWith('without:')),
  );
}
