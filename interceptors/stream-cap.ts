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

/** Calls in flight on one client connection. */
class ConnectionSlots {
  count = 0;
  /** Only for connections known by address (see {@link createStreamCapStep}): the map to leave when the last call ends. */
  constructor(
    private readonly owner?: Map<string, ConnectionSlots>,
    private readonly key?: string,
  ) {}

  /** The call is over: its place is given back. */
  release(call: GatewayCall): void {
    call.capSlot = undefined;
    this.count--;
    if (this.count === 0 && this.owner !== undefined) this.owner.delete(this.key!);
  }
}

/**
 * Caps concurrent calls per client connection with a clear error, where
 * HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS would make clients queue silently.
 * A connection is its HTTP/2 session (one WeakMap lookup per call, and the
 * count goes with the session); should grpc-js stop showing it
 * (interceptors/grpc-compat.ts), the remote address and port stand in.
 * In-memory connections from the web front end have no address, so the
 * session is the only thing that tells them apart.
 */
export function createStreamCapStep(options: StreamCapOptions): Step {
  const max = options.maxConcurrentStreamsPerConnection;
  if (max <= 0) return { name: 'streamCap', forMethod: () => undefined };
  const reject = options.reject ?? plainRejection;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const countRefusal = rateLimitedCounter(options.registry);
  const byConnection = new WeakMap<object, ConnectionSlots>();
  const byAddress = new Map<string, ConnectionSlots>();
  const slotsOf = (call: GatewayCall): ConnectionSlots => {
    const connection = call.connection;
    let slots: ConnectionSlots | undefined;
    if (connection !== undefined) {
      slots = byConnection.get(connection);
      if (slots === undefined) byConnection.set(connection, (slots = new ConnectionSlots()));
      return slots;
    }
    const info = call.getConnectionInfo();
    const key = `${info.remoteAddress} ${info.remotePort}`;
    slots = byAddress.get(key);
    if (slots === undefined) byAddress.set(key, (slots = new ConnectionSlots(byAddress, key)));
    return slots;
  };
  let refusal: ReturnType<RejectionToStatus> | undefined;
  return {
    name: 'streamCap',
    forMethod(names): MethodHooks {
      const refused = countRefusal(names.path);
      return {
        admit(call) {
          const slots = slotsOf(call);
          if (slots.count >= max) {
            refused();
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
          slots.count++;
          call.capSlot = slots;
          return undefined;
        },
      };
    },
  };
}
