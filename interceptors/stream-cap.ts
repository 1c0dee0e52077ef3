import { status as Status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { ForwardingCall } from './forwarding-call.js';
import { rateLimitedCounter } from './rate-limit.js';
import { plainRejection, type RejectionToStatus } from './rejection.js';

/** Options for {@link createStreamCapInterceptor}. */
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

/**
 * Caps concurrent calls per client connection with a clear error, where
 * HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS would make clients queue silently.
 * One connection is one (remote address, remote port) pair.
 */
export function createStreamCapInterceptor(options: StreamCapOptions): ServerInterceptor {
  const max = options.maxConcurrentStreamsPerConnection;
  if (max <= 0) return (_method, call) => call as ReturnType<ServerInterceptor>;
  const reject = options.reject ?? plainRejection;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const countRefusal = rateLimitedCounter(options.registry);
  // Calls in flight by remote address, then remote port: two lookups with strings and numbers the socket
  // already has, rather than building an "address:port" key per call.
  const open = new Map<string | undefined, Map<number | undefined, number>>();

  class StreamCapCall extends ForwardingCall {
    private byPort: Map<number | undefined, number> | undefined;
    private port: number | undefined;

    constructor(next: ConstructorParameters<typeof ForwardingCall>[0], private readonly path: string) {
      super(next);
    }

    override onReceiveMetadata(metadata: Metadata): void {
      const info = this.next.getConnectionInfo();
      let byPort = open.get(info.remoteAddress);
      if (byPort === undefined) {
        byPort = new Map();
        open.set(info.remoteAddress, byPort);
      }
      const count = byPort.get(info.remotePort) ?? 0;
      if (count >= max) {
        countRefusal(this.path);
        this.next.sendStatus(reject({
          code: Status.RESOURCE_EXHAUSTED,
          reason: 'TOO_MANY_STREAMS',
          message: `this connection already has ${count} calls in progress, the most one connection may have; ` +
            'wait for some to finish or open another connection',
          retryDelayMs,
          metadata: { maxConcurrentStreamsPerConnection: String(max) },
        }));
        return;
      }
      byPort.set(info.remotePort, count + 1);
      this.byPort = byPort;
      this.port = info.remotePort;
      this.listener.onReceiveMetadata(metadata);
    }
    override onCancel(): void {
      const byPort = this.byPort;
      if (byPort !== undefined) {
        this.byPort = undefined;
        const count = (byPort.get(this.port) ?? 1) - 1;
        if (count > 0) byPort.set(this.port, count);
        else byPort.delete(this.port);
        // An address's port map stays while that client is connected; it is dropped when its last call ends.
        if (byPort.size === 0) open.delete(this.next.getConnectionInfo().remoteAddress);
      }
      this.listener.onCancel();
    }
  }

  return (method, call) => new StreamCapCall(call, method.path).asInterceptingCall();
}
