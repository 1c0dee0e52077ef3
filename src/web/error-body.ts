import type { status as Status } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type { GatehouseError } from '../errors.js';
import { HTTP_STATUS_FOR_CODE, REASONS, type ReasonEntry } from '../status/reasons.js';
import type { StatusDetailsCodec } from '../status/status-details.js';
import { messageToJson } from './json-mapping.js';

/** What a JSON client gets for a non-OK status: the HTTP status and a `google.rpc.Status` in proto3 JSON. */
export interface HttpError {
  httpStatus: number;
  /** `{ code, message, details: [{ "@type": ..., ... }] }`: the same status and details a gRPC client decodes. */
  body: { code: number; message: string; details: unknown[] };
}

/** Writes statuses as HTTP errors, with every detail's type from the descriptor set. */
export interface ErrorBodies {
  /** A status the chain or a service sent (its `grpc-status-details-bin` decoded). */
  fromStatus(code: Status, message: string, details: Buffer | undefined): HttpError;
  /** A refusal of the web listener itself, before any call. */
  fromError(error: GatehouseError): HttpError;
}

/**
 * HTTP status: the catalogue's for the ErrorInfo reason when it names one
 * (src/status/reasons.ts, e.g. 413 for REQUEST_TOO_LARGE), else gRPC's usual
 * table (google/rpc/code.proto). Details are unpacked by their type URL from
 * the same descriptors reflection serves; one of an unknown type keeps its
 * bytes as base64 `value`, as the JSON mapping of Any does.
 */
export function createErrorBodies(root: protobuf.Root, codec: StatusDetailsCodec): ErrorBodies {
  const statusType = root.lookupType('google.rpc.Status');
  const fromStatus = (code: Status, message: string, details: Buffer | undefined): HttpError => {
    const unpacked: unknown[] = [];
    let reason: string | undefined;
    if (details !== undefined && details.length > 0) {
      try {
        const decoded = statusType.decode(details) as unknown as { details?: { type_url: string; value: Uint8Array }[] };
        for (const any of decoded.details ?? []) {
          const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
          const type = lookup(root, typeName);
          if (type === undefined) {
            unpacked.push({ '@type': any.type_url, value: Buffer.from(any.value).toString('base64') });
            continue;
          }
          const value = type.decode(any.value);
          if (typeName === 'google.rpc.ErrorInfo') reason = (value as unknown as { reason?: string }).reason;
          unpacked.push({ '@type': any.type_url, ...(messageToJson(type, value) as object) });
        }
      } catch {
        // Undecodable details: the code and message still say what happened.
      }
    }
    const entry = reason !== undefined && Object.hasOwn(REASONS, reason) ? (REASONS as Readonly<Record<string, ReasonEntry>>)[reason] : undefined;
    const httpStatus = entry?.http ?? HTTP_STATUS_FOR_CODE[code] ?? 500;
    return { httpStatus, body: { code, message, details: unpacked } };
  };
  return {
    fromStatus,
    fromError: (error) => fromStatus(error.code, error.message, codec.encode(error, error.message)),
  };
}

function lookup(root: protobuf.Root, name: string): protobuf.Type | undefined {
  try {
    return root.lookupType(name);
  } catch {
    return undefined;
  }
}
