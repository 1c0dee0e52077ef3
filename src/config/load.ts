import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import YAML from 'yaml';
import { ConfigSchema, type Config } from './schema.js';

/** Where configuration comes from, lowest precedence first: file, environment, flags. */
export interface ConfigSources {
  /** YAML or JSON file; undefined uses defaults only. */
  file?: string;
  /** Environment; only `GATEHOUSE_SECTION__KEY` variables are read. Default none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Dotted overrides from CLI flags, e.g. `{ 'server.port': 0 }`. */
  overrides?: Readonly<Record<string, unknown>>;
}

/** Thrown when configuration is invalid; its message lists every problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const ENV_PREFIX = 'GATEHOUSE_';

/**
 * Reads, merges, validates and freezes configuration. This is the only reader
 * of `process.env` in the server (callers pass it in), so tests control it.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const problems: string[] = [];
  let raw: Record<string, unknown> = {};
  if (sources.file) {
    try {
      const parsed: unknown = YAML.parse(readFileSync(resolve(sources.file), 'utf8'));
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${sources.file}: the top level must be a mapping`);
        else raw = parsed as Record<string, unknown>;
      }
    } catch (error) {
      problems.push(`${sources.file}: ${(error as Error).message}`);
    }
  }
  for (const [name, value] of Object.entries(sources.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined || name === 'GATEHOUSE_TOKEN' || name === 'GATEHOUSE_CONFIG') continue;
    const path = name.slice(ENV_PREFIX.length).split('__').map(envKeyToField);
    setPath(raw, path, parseScalar(value));
  }
  for (const [dotted, value] of Object.entries(sources.overrides ?? {})) {
    if (value !== undefined) setPath(raw, dotted.split('.'), value);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return deepFreeze(result.data);
}

/** `MAX_RECEIVE_MESSAGE_BYTES` -> `maxReceiveMessageBytes`. */
function envKeyToField(key: string): string {
  return key.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Environment values are strings; read them as YAML scalars so `8081` is a number and `false` a boolean. */
function parseScalar(value: string): unknown {
  try {
    return YAML.parse(value) ?? value;
  } catch {
    return value;
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (node[key] = typeof next === 'object' && next !== null ? next : {}) as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
