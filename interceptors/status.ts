import type { Metadata } from '@grpc/grpc-js';
import type { Step } from './gateway-call.js';
import type { PartialStatus } from './grpc-compat.js';

/** Options for {@link createStatusStep}. */
export interface StatusStepOptions {
  /**
   * Makes a non-OK status that arrived without rich details well-formed: the
   * server passes its one error mapping (src/status/), which turns UNKNOWN from
   * a handler that bypassed the adapters into INTERNAL with a reference id and
   * gives every other code an `ErrorInfo`. `requestMetadata` carries the call
   * state (trace id; where the private cause is left for the access log).
   */
  normalize: (status: PartialStatus, requestMetadata?: Metadata) => PartialStatus;
}

/**
 * The last line of status mapping: every non-OK status leaving the handler or
 * a refusing step carries `grpc-status-details-bin`. Handlers built on
 * src/handler.ts already produce such statuses; this catches the rest: raw
 * grpc-js handlers (health, reflection), a synchronous throw grpc-js turned
 * into UNKNOWN, and steps that refused a call without details. OK passes
 * untouched (the gateway call never asks for it).
 */
export function createStatusStep(options: StatusStepOptions): Step {
  const normalize = options.normalize;
  return {
    name: 'status',
    forMethod: () => undefined,
    // The mapping itself leaves a status with details as it is (bounding its message only).
    outbound: (status, call) => normalize(status, call.metadata),
  };
}
