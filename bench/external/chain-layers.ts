/**
 * Gatehouse's interceptor chain with one layer alone, for the external
 * benchmark's "what does each layer cost" rows. `chainWith` is the one place
 * that knows how src/chain.ts exposes its layers: named steps of the one fused
 * interceptor, selected through createGateway's `chainSteps`.
 */
import type { StepName } from '../../interceptors/gateway-call.js';

/**
 * The layers measured alone, outermost first. Authentication and authorization are one layer here:
 * authorization alone would refuse every call, since it reads the identity authentication establishes.
 */
export const CHAIN_LAYERS = [
  'call-outcome',
  'tracing',
  'metrics',
  'access-log',
  'status',
  'metadata-limits',
  'deadline',
  'auth',
  'stream-cap',
  'rate-limit',
] as const;

/** One chain layer. */
export type ChainLayer = (typeof CHAIN_LAYERS)[number];

/**
 * One measured layer, or `all` (the chain as config builds it), or `none` (the gateway with no interceptor step
 * at all), or `without:<layer>` (every step but that layer's: what leaving it out saves, interactions included).
 */
export type ChainSelection = ChainLayer | 'all' | 'none' | `without:${ChainLayer}`;

/** The steps of src/chain.ts (interceptors/gateway-call.ts STEP_NAMES) each measured layer consists of. */
export const LAYER_STEPS: Readonly<Record<(typeof CHAIN_LAYERS)[number], readonly StepName[]>> = {
  'call-outcome': ['outcome'],
  tracing: ['tracing'],
  metrics: ['metrics'],
  'access-log': ['accessLog'],
  status: ['status'],
  'metadata-limits': ['metadataLimits'],
  deadline: ['deadline'],
  auth: ['authentication', 'authorization'],
  'stream-cap': ['streamCap'],
  'rate-limit': ['rateLimit'],
};

/** createGateway's `chainSteps` for `selection`: undefined builds every step, as config does. */
export function chainWith(selection: ChainSelection): readonly StepName[] | undefined {
  if (selection === 'all') return undefined;
  if (selection === 'none') return [];
  if (selection.startsWith('without:')) {
    const left = LAYER_STEPS[selection.slice('without:'.length) as ChainLayer];
    return Object.values(LAYER_STEPS)
      .flat()
      .filter((step) => !left.includes(step));
  }
  return LAYER_STEPS[selection as ChainLayer];
}

/** Reads a selection from a command-line value, with a clear error naming the choices. */
export function parseChainSelection(value: string): ChainSelection {
  const choices: readonly string[] = ['all', 'none', ...CHAIN_LAYERS, ...CHAIN_LAYERS.map((layer) => `without:${layer}`)];
  if (!choices.includes(value)) throw new Error(`unknown chain layer "${value}"; one of: ${choices.join(', ')}`);
  return value as ChainSelection;
}
