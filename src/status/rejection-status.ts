import { GatehouseError } from '../errors.js';
import type { Rejection, RejectionToStatus } from '../../interceptors/rejection.js';
import type { PartialStatus } from '../../interceptors/grpc-compat.js';
import { statusFromError } from './to-status.js';

/**
 * The one mapping from an interceptor's refusal to a status: the same as for
 * a handler's GatehouseError, so refusals carry `grpc-status-details-bin`
 * (ErrorInfo reason and domain, RetryInfo when a retry makes sense), their
 * code is the catalogue's for the reason, and the message is bounded. Pass it
 * as `reject` to every interceptor that refuses calls.
 */
export const rejectionToStatus: RejectionToStatus = (rejection: Rejection): PartialStatus => {
  const error = new GatehouseError(rejection.reason, rejection.message, {
    retryDelayMs: rejection.retryDelayMs,
    metadata: rejection.metadata,
  });
  const status = statusFromError(error);
  return { code: error.code, details: error.message, metadata: status.metadata };
};
