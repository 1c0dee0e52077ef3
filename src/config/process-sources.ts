import { existsSync } from 'node:fs';
import type { ConfigSources } from './load.js';

/** Default configuration file, used when it exists and no other is named. */
export const DEFAULT_CONFIG_FILE = 'config/default.yaml';

/**
 * Config sources for a process: the named or default file, and the environment. Apart from main.ts so that the
 * CLI's client commands can read the configuration without loading the server.
 */
export function processConfigSources(file: string | undefined, overrides: Record<string, unknown> = {}): ConfigSources {
  const chosen = file ?? process.env.GATEHOUSE_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  return { file: chosen, env: process.env, overrides };
}
