import { status as Status } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { GatewayCall, MethodHooks, Step } from './gateway-call.js';
import { rateLimitedCounter } from './rate-limit.js';
import { plainRejection, type RejectionToStatus } from './rejection.js';

/** Options for {@link createStreamCapStep}. */
export interface StreamCapOptions {
  /** Most calls in flight at once on one client connection; more are refused with RESOURCE_EXHAUSTED. 0 disables. */
  maxConcurrentStreamsPerConnection: number;
  /** Where refusals are counted (`gatehouse_rate_limited_total`); omitted, nothing is counted. */
  registry?: Registry;
  /** Builds the RESOURCE_EXHAUSTED status (rich details come from src/). Default: plain status. */
  reject?: RejectionToStatus;
  /** How long a refused client should wait before retrying, in ms (RetryInfo). Default 100. */
  retryDelayMs?: number;
}

/** Calls in flight from one remote address, by remote port (one connection is one address and port). */
class AddressSlots {
  readonly byPort = new Map<number | undefined, number>();
  constructor(
    private readonly owner: Map<string | undefined, AddressSlots>,
    private readonly address: string | undefined,
  ) {}

  /** The call is over: its place is given back; the address is forgotten when its last call ends. */
  release(call: GatewayCall): void {
    call.capSlot = undefined;
    const port = call.getConnectionInfo().remotePort;
    const count = (this.byPort.get(port) ?? 1) - 1;
    if (count > 0) this.byPort.set(port, count);
    else this.byPort.delete(port);
    if (this.byPort.size === 0) this.owner.delete(this.address);
  }
}

/**
 * Caps concurrent calls per client connection with a clear error, where
 * HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS would make clients queue silently.
 * One connection is one (remote address, remote port) pair: two lookups with
 * values the connection already has, rather than a key string per call.
 */
export function createStreamCapStep(options: StreamCapOptions): Step {
  const max = options.maxConcurrentStreamsPerConnection;
  if (max <= 0) return { name: 'streamCap', forMethod: () => undefined };
  const reject = options.reject ?? plainRejection;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const countRefusal = rateLimitedCounter(options.registry);
  const open = new Map<string | undefined, AddressSlots>();
  let refusal: ReturnType<RejectionToStatus> | undefined;
  return {
    name: 'streamCap',
    forMethod(names): MethodHooks {
      const refused = countRefusal(names.path);
      return {
        admit(call) {
          const info = call.getConnectionInfo();
          let slots = open.get(info.remoteAddress);
          if (slots === undefined) {
            slots = new AddressSlots(open, info.remoteAddress);
            open.set(info.remoteAddress, slots);
          }
          const count = slots.byPort.get(info.remotePort) ?? 0;
          if (count >= max) {
            refused();
            if (slots.byPort.size === 0) open.delete(info.remoteAddress);
            return (refusal ??= reject({
              code: Status.RESOURCE_EXHAUSTED,
              reason: 'TOO_MANY_STREAMS',
              message:
                `this connection already has ${max} calls in progress, the most one connection may have; ` +
                'wait for some to finish or open another connection',
              retryDelayMs,
              metadata: { maxConcurrentStreamsPerConnection: String(max) },
            }));
          }
          slots.byPort.set(info.remotePort, count + 1);
          call.capSlot = slots;
          return undefined;
        },
      };
    },
  };
}
