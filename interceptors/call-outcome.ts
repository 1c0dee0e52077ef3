import type { Metadata } from '@grpc/grpc-js';
import type { Step } from './gateway-call.js';
import type { PartialStatus } from './grpc-compat.js';

/** Options for {@link createOutcomeStep}. */
export interface OutcomeStepOptions {
  /**
   * Rewrites every non-OK status just before it is written, with the call's
   * request metadata (the call state). The server passes its one status
   * mapping (src/status/), which gives statuses grpc-js makes by itself (its
   * deadline, "Received message larger than max", undecodable requests) a
   * clear message and rich details, and bounds every message: a
   * `grpc-message` near 64 KB poisons the HTTP/2 connection. Default: unchanged.
   */
  normalize?: (status: PartialStatus, requestMetadata?: Metadata) => PartialStatus;
}

/**
 * The call outcome: what really went on the wire. When grpc-js ends a call by
 * itself (a deadline it enforces, an oversized or undecodable request) no
 * interceptor sees that status; with this step the gateway call observes
 * grpc-js's own call object (interceptors/grpc-compat.ts), so metrics, logs
 * and spans report the code the client got, exactly once, and a status for a
 * stream the client already reset counts as CANCELLED, not as what the server
 * tried to send. Without it (or if grpc-js changes), the code is inferred.
 */
export function createOutcomeStep(options: OutcomeStepOptions = {}): Step {
  return {
    name: 'outcome',
    forMethod: () => undefined,
    wire: options.normalize ?? ((status) => status),
  };
}
