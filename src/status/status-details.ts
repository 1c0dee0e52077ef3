import protobuf from 'protobufjs';
import type { GatehouseError } from '../errors.js';
import { PROTO_DIR } from '../proto/load.js';

/** `google.rpc.ErrorInfo.domain` for every error Gatehouse raises. */
export const ERROR_DOMAIN = 'gatehouse.dev';

/** The trailer that carries `google.rpc.Status`, as in every gRPC language's rich error model. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** Encoders for google.rpc.Status and its detail messages, built once at start. */
export interface StatusDetailsCodec {
  /** Encodes the error as `google.rpc.Status` bytes. */
  encode(error: GatehouseError, message: string): Buffer;
  /** Decodes `google.rpc.Status` bytes into plain objects, for clients and tests. */
  decode(bytes: Buffer): DecodedStatus;
}

/** A decoded `google.rpc.Status` with its known details unpacked. */
export interface DecodedStatus {
  code: number;
  message: string;
  errorInfo?: { reason: string; domain: string; metadata: Record<string, string> };
  fieldViolations?: { field: string; description: string }[];
  retryDelayMs?: number;
}

/** Loads the google.rpc protos once; the codec is immutable and shared. */
export function createStatusDetailsCodec(): StatusDetailsCodec {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : PROTO_DIR + target);
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
  const Status = root.lookupType('google.rpc.Status');
  const ErrorInfo = root.lookupType('google.rpc.ErrorInfo');
  const BadRequest = root.lookupType('google.rpc.BadRequest');
  const RetryInfo = root.lookupType('google.rpc.RetryInfo');
  const typeUrl = (type: protobuf.Type) => `type.googleapis.com/${type.fullName.slice(1)}`;
  const pack = (type: protobuf.Type, value: object) => ({ type_url: typeUrl(type), value: type.encode(type.fromObject(value)).finish() });

  return {
    encode(error, message) {
      const details = [pack(ErrorInfo, { reason: error.reason, domain: ERROR_DOMAIN, metadata: error.details.metadata ?? {} })];
      if (error.details.fieldViolations?.length) {
        details.push(pack(BadRequest, { field_violations: error.details.fieldViolations }));
      }
      if (error.details.retryDelayMs !== undefined) {
        const ms = Math.max(0, Math.round(error.details.retryDelayMs));
        details.push(pack(RetryInfo, { retry_delay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } }));
      }
      return Buffer.from(Status.encode(Status.fromObject({ code: error.code, message, details })).finish());
    },
    decode(bytes) {
      const status = Status.toObject(Status.decode(bytes), { longs: Number, defaults: true }) as {
        code: number;
        message: string;
        details: { type_url: string; value: Uint8Array }[];
      };
      const decoded: DecodedStatus = { code: status.code, message: status.message };
      for (const any of status.details) {
        if (any.type_url === typeUrl(ErrorInfo)) {
          decoded.errorInfo = ErrorInfo.toObject(ErrorInfo.decode(any.value), { defaults: true }) as DecodedStatus['errorInfo'];
        } else if (any.type_url === typeUrl(BadRequest)) {
          decoded.fieldViolations = (
            BadRequest.toObject(BadRequest.decode(any.value), { arrays: true }) as {
              field_violations: { field: string; description: string }[];
            }
          ).field_violations;
        } else if (any.type_url === typeUrl(RetryInfo)) {
          const delay = (
            RetryInfo.toObject(RetryInfo.decode(any.value), { longs: Number, defaults: true }) as {
              retry_delay?: { seconds: number; nanos: number };
            }
          ).retry_delay;
          if (delay) decoded.retryDelayMs = delay.seconds * 1000 + Math.round(delay.nanos / 1e6);
        }
      }
      return decoded;
    },
  };
}
