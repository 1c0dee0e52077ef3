import { Metadata, status as Status } from '@grpc/grpc-js';
import { boundStatusMessage } from '../../interceptors/bounded-text.js';
import type { PartialStatus } from '../../interceptors/grpc-compat.js';
import { CODE_NAMES } from '../../interceptors/method-names.js';
import { GatehouseError } from '../errors.js';
import { isPassedThrough } from './passed-through.js';
import { genericReason } from './reasons.js';
import { STATUS_DETAILS_KEY } from './status-details.js';
import { rewriteThirdPartyStatus, type WireStatusLimits } from './third-party-wording.js';
import { internalStatus, statusFromError } from './to-status.js';

export type { WireStatusLimits } from './third-party-wording.js';

/** Makes any status fit to send; see {@link createStatusNormalizer}. */
export type StatusNormalizer = (status: PartialStatus, requestMetadata?: Metadata) => PartialStatus;

/**
 * The one mapping for statuses that did not come from a GatehouseError:
 * those grpc-js writes by itself (its deadline, oversized, undecodable or
 * badly compressed requests, a malformed grpc-timeout, an unknown method),
 * those of raw grpc-js handlers (health, reflection) and anything an
 * interceptor passed on without details. The status interceptor, the
 * call-outcome layer (closest to the wire), the health-only listener and the
 * unknown-method hook all use it, so every non-OK status a client gets has
 * Gatehouse's own words, `grpc-status-details-bin` with an `ErrorInfo` whose
 * reason is catalogued, and a bounded message.
 *
 * - OK passes untouched; a status that already has details, or that a
 *   routed upstream sent (src/status/passed-through.ts), only has its
 *   message bounded.
 * - grpc-js's and grpc-health-check's own wording is rewritten
 *   (src/status/third-party-wording.ts).
 * - UNKNOWN and INTERNAL are bugs: INTERNAL with a reference id (and the
 *   trace id); the original text waits on the call state for the access log.
 * - Anything else keeps its code and (bounded) message and gains the generic
 *   reason for its code.
 */
export function createStatusNormalizer(limits: WireStatusLimits): StatusNormalizer {
  return (status, requestMetadata) => {
    if (status.code === Status.OK) return status;
    const details = status.details ?? '';
    // A routed service's own status (src/upstream/) reaches the client as the service wrote it.
    if (hasDetails(status.metadata) || isPassedThrough(status.metadata)) {
      const bounded = boundStatusMessage(details);
      return bounded === details ? status : { ...status, details: bounded };
    }
    const rewritten = rewriteThirdPartyStatus(status.code, details, limits);
    if (rewritten) return withDetails(rewritten, status.metadata);
    if (status.code === Status.UNKNOWN || status.code === Status.INTERNAL) {
      const cause = new Error(`the call ended with ${CODE_NAMES[status.code]} and no details: ${boundStatusMessage(details)}`);
      const mapped = internalStatus(cause, requestMetadata ?? new Metadata());
      return { code: mapped.code!, details: mapped.details!, metadata: merged(status.metadata, mapped.metadata) };
    }
    const reason = genericReason(status.code);
    return withDetails(new GatehouseError(reason, details || reason.toLowerCase().replace(/_/g, ' ')), status.metadata);
  };
}

function hasDetails(metadata: Metadata | null | undefined): boolean {
  return metadata != null && metadata.get(STATUS_DETAILS_KEY).length > 0;
}

function withDetails(error: GatehouseError, original: Metadata | null | undefined): PartialStatus {
  const mapped = statusFromError(error);
  return { code: error.code, details: error.message, metadata: merged(original, mapped.metadata) };
}

/** Keeps trailers the sender set and adds the details trailer. */
function merged(original: Metadata | null | undefined, added: Metadata | undefined): Metadata | undefined {
  if (!original) return added;
  const result = original.clone();
  if (added) result.merge(added);
  return result;
}
