import type { Metadata, ServerInterceptor } from '@grpc/grpc-js';
import { ForwardingCall, type PartialStatus } from './forwarding-call.js';

/** The trailer that carries `google.rpc.Status`. */
const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** Options for {@link createStatusInterceptor}. */
export interface StatusInterceptorOptions {
  /**
   * Makes a non-OK status that arrived without rich details well-formed: the
   * server passes its one error mapping (src/status/), which turns UNKNOWN from
   * a handler that bypassed the adapters into INTERNAL with a reference id and
   * gives every other code an `ErrorInfo`. `requestMetadata` carries the call
   * state (trace id; where the private cause is left for the access log).
   */
  normalize: (status: PartialStatus, requestMetadata: Metadata | undefined) => PartialStatus;
}

/**
 * The last line of status mapping: every non-OK status leaving the layers
 * inside it carries `grpc-status-details-bin`. Handlers built on src/handler.ts
 * already produce such statuses; this catches the rest: raw grpc-js handlers
 * (health, reflection), a synchronous throw grpc-js turned into UNKNOWN, and
 * interceptors that refused a call without details. OK passes untouched.
 */
export function createStatusInterceptor(options: StatusInterceptorOptions): ServerInterceptor {
  const normalize = options.normalize;

  class StatusCall extends ForwardingCall {
    private metadata: Metadata | undefined;

    override onReceiveMetadata(metadata: Metadata): void {
      this.metadata = metadata;
      this.listener.onReceiveMetadata(metadata);
    }
    override sendStatus(status: PartialStatus): void {
      if (status.code !== 0 && !(status.metadata != null && status.metadata.get(STATUS_DETAILS_KEY).length > 0)) {
        this.next.sendStatus(normalize(status, this.metadata));
      } else {
        this.next.sendStatus(status);
      }
    }
  }

  return (_method, call) => new StatusCall(call).asInterceptingCall();
}
