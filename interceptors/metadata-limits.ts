import { status as Status } from '@grpc/grpc-js';
import type { MethodHooks, Step } from './gateway-call.js';
import { plainRejection, type RejectionToStatus } from './rejection.js';

/** Options for {@link createMetadataLimitsStep}. */
export interface MetadataLimitsOptions {
  /** Most request metadata entries (each value of a repeated key counts) a call may carry. 0 = unlimited. */
  maxEntries: number;
  /** Most request metadata bytes (keys plus values, binary values decoded) a call may carry. 0 = unlimited. */
  maxBytes: number;
  /** Builds the RESOURCE_EXHAUSTED status (rich details come from src/). Default: plain status. */
  reject?: RejectionToStatus;
}

/**
 * Refuses calls whose request metadata is larger than the gateway accepts,
 * with RESOURCE_EXHAUSTED and a message naming both limits, the status gRPC
 * uses for oversized metadata. Node's HTTP/2 layer would otherwise reset the
 * stream (ENHANCE_YOUR_CALM) with no status at all; the server raises Node's
 * own header limits above these (src/transport/) so floods reach this check.
 */
export function createMetadataLimitsStep(options: MetadataLimitsOptions): Step {
  const { maxEntries, maxBytes } = options;
  if (maxEntries <= 0 && maxBytes <= 0) return { name: 'metadataLimits', forMethod: () => undefined };
  const reject = options.reject ?? plainRejection;
  const limits = { maxMetadataEntries: String(maxEntries), maxMetadataBytes: String(maxBytes) };
  const accepted = [maxEntries > 0 ? `${maxEntries} entries` : '', maxBytes > 0 ? `${maxBytes} bytes` : ''].filter(Boolean).join(' and ');
  const hooks: MethodHooks = {
    admit(call) {
      let entries = 0;
      let bytes = 0;
      for (const [key, values] of Object.entries(call.metadata!.toJSON())) {
        entries += values.length;
        for (const value of values) bytes += key.length + value.length;
      }
      if ((maxEntries > 0 && entries > maxEntries) || (maxBytes > 0 && bytes > maxBytes)) {
        return reject({
          code: Status.RESOURCE_EXHAUSTED,
          reason: 'METADATA_TOO_LARGE',
          message: `request metadata has ${entries} entries and ${bytes} bytes; at most ${accepted} are accepted: send fewer or smaller headers`,
          metadata: limits,
        });
      }
      return undefined;
    },
  };
  return { name: 'metadataLimits', forMethod: () => hooks };
}
