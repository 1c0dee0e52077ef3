import { status as Status } from '@grpc/grpc-js';
import type { GatewayCall, MethodHooks, Step } from './gateway-call.js';
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

/** The metadata limits step, and the measurement it takes from the HTTP/2 layer. */
export interface MetadataLimitsStep extends Step {
  /**
   * Measures one request on its raw HTTP/2 header list, before grpc-js reads
   * it (src/auth/http2-hooks.ts calls it for every stream); only a request
   * over a limit is remembered, for the step to refuse. Undefined when nothing
   * is limited.
   */
  readonly measureHeaders: ((stream: object, rawHeaders: readonly string[]) => void) | undefined;
}

/** Headers grpc-js takes for itself and leaves out of request metadata (besides the `:` pseudo-headers). */
const NOT_METADATA: ReadonlySet<string> = new Set(['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type']);

/** Request metadata's size: every value counts as an entry; bytes are key plus value, binary values decoded. */
interface MetadataSize {
  entries: number;
  bytes: number;
}

/**
 * Refuses calls whose request metadata is larger than the gateway accepts,
 * with RESOURCE_EXHAUSTED and a message naming both limits, the status gRPC
 * uses for oversized metadata. Node's HTTP/2 layer would otherwise reset the
 * stream (ENHANCE_YOUR_CALM) with no status at all; the server raises Node's
 * own header limits above these (src/transport/) so floods reach this check.
 *
 * The size is measured where it costs least: on the raw header list the
 * HTTP/2 layer already holds (`measureHeaders`), so a call within the limits
 * costs one WeakMap lookup here. Calls whose stream is unknown (no HTTP/2
 * hook installed) are measured on their metadata instead.
 */
export function createMetadataLimitsStep(options: MetadataLimitsOptions): MetadataLimitsStep {
  const { maxEntries, maxBytes } = options;
  if (maxEntries <= 0 && maxBytes <= 0) return { name: 'metadataLimits', forMethod: () => undefined, measureHeaders: undefined };
  const reject = options.reject ?? plainRejection;
  const limits = { maxMetadataEntries: String(maxEntries), maxMetadataBytes: String(maxBytes) };
  const accepted = [maxEntries > 0 ? `${maxEntries} entries` : '', maxBytes > 0 ? `${maxBytes} bytes` : ''].filter(Boolean).join(' and ');
  const tooLarge = (size: MetadataSize): boolean => (maxEntries > 0 && size.entries > maxEntries) || (maxBytes > 0 && size.bytes > maxBytes);
  const oversized = new WeakMap<object, MetadataSize>();
  let measuredStreams = false;
  const refusal = (size: MetadataSize) =>
    reject({
      code: Status.RESOURCE_EXHAUSTED,
      reason: 'METADATA_TOO_LARGE',
      message: `request metadata has ${size.entries} entries and ${size.bytes} bytes; at most ${accepted} are accepted: send fewer or smaller headers`,
      metadata: limits,
    });
  const hooks: MethodHooks = {
    admit(call) {
      const stream = measuredStreams ? call.http2Stream : undefined;
      const size = stream !== undefined ? oversized.get(stream) : sizeOfMetadata(call);
      return size !== undefined && tooLarge(size) ? refusal(size) : undefined;
    },
  };
  return {
    name: 'metadataLimits',
    forMethod: () => hooks,
    measureHeaders(stream, rawHeaders) {
      measuredStreams = true;
      const size = sizeOfRawHeaders(rawHeaders);
      if (tooLarge(size)) oversized.set(stream, size);
    },
  };
}

function sizeOfRawHeaders(rawHeaders: readonly string[]): MetadataSize {
  let entries = 0;
  let bytes = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const key = rawHeaders[i]!;
    if (key.charCodeAt(0) === 58 /* : */ || NOT_METADATA.has(key)) continue;
    const value = rawHeaders[i + 1]!;
    entries++;
    bytes += key.length + (key.endsWith('-bin') ? Buffer.byteLength(value, 'base64') : value.length);
  }
  return { entries, bytes };
}

function sizeOfMetadata(call: GatewayCall): MetadataSize {
  let entries = 0;
  let bytes = 0;
  for (const [key, values] of Object.entries(call.metadata!.toJSON())) {
    entries += values.length;
    for (const value of values) bytes += key.length + value.length;
  }
  return { entries, bytes };
}
