/**
 * Gatehouse's interceptor chain with one layer alone, for the external
 * benchmark's "what does each layer cost" rows. `chainWith` is the one place
 * that knows how src/chain.ts exposes its layers; when the chain changes shape
 * (fused steps), only this function changes.
 */
import type * as grpc from '@grpc/grpc-js';
import { buildInterceptorChain, type ChainDependencies } from '../../src/chain.js';

/**
 * The layers measured alone, outermost first. Authentication and authorization are one layer here:
 * authorization alone would refuse every call, since it reads the identity authentication establishes.
 */
export const CHAIN_LAYERS = ['call-outcome', 'tracing', 'metrics', 'access-log', 'status', 'deadline', 'auth', 'stream-cap', 'rate-limit'] as const;

/** One measured layer, or `all` (the chain as config builds it), or `none` (the gateway with no interceptor at all). */
export type ChainSelection = (typeof CHAIN_LAYERS)[number] | 'all' | 'none';

/** Positions of each layer in buildInterceptorChain's array, with the access log on (as config/default.yaml has it). */
const POSITIONS: Record<(typeof CHAIN_LAYERS)[number], number[]> = {
  'call-outcome': [0], tracing: [1], metrics: [2], 'access-log': [3], status: [4], deadline: [5], auth: [6, 7], 'stream-cap': [8], 'rate-limit': [9],
};

/** A chain builder for createGateway's `buildChain` that keeps only `selection`. */
export function chainWith(selection: ChainSelection): (deps: ChainDependencies) => grpc.ServerInterceptor[] {
  return (deps) => {
    const all = buildInterceptorChain(deps);
    if (selection === 'all') return all;
    if (selection === 'none') return [];
    // A chain of another length means src/chain.ts changed: stop rather than measure the wrong layer under this name.
    if (all.length !== 10 || !deps.config.logging.accessLog) {
      throw new Error(`bench/external/chain-layers.ts: src/chain.ts built ${all.length} interceptors, expected 10; update POSITIONS`);
    }
    return POSITIONS[selection].map((i) => all[i]!);
  };
}

/** Reads a selection from a command-line value, with a clear error naming the choices. */
export function parseChainSelection(value: string): ChainSelection {
  const choices: readonly string[] = ['all', 'none', ...CHAIN_LAYERS];
  if (!choices.includes(value)) throw new Error(`unknown chain layer "${value}"; one of: ${choices.join(', ')}`);
  return value as ChainSelection;
}
