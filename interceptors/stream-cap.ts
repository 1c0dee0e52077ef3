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
  const open = new Map<string, number>();

  class StreamCapCall extends ForwardingCall {
    private connection: string | undefined;

    constructor(next: ConstructorParameters<typeof ForwardingCall>[0], private readonly path: string) {
      super(next);
    }

    override onReceiveMetadata(metadata: Metadata): void {
      const info = this.next.getConnectionInfo();
      const connection = `${info.remoteAddress}:${info.remotePort}`;
      const count = open.get(connection) ?? 0;
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
      open.set(connection, count + 1);
      this.connection = connection;
      this.listener.onReceiveMetadata(metadata);
    }
    override onCancel(): void {
      const connection = this.connection;
      if (connection !== undefined) {
        this.connection = undefined;
        const count = (open.get(connection) ?? 1) - 1;
        if (count <= 0) open.delete(connection);
        else open.set(connection, count);
      }
      this.listener.onCancel();
    }
  }

  return (method, call) => new StreamCapCall(call, method.path).asInterceptingCall();
}
