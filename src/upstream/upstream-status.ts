import * as grpc from '@grpc/grpc-js';
import { GatehouseError } from '../errors.js';
import { statusFromError } from '../status/to-status.js';

/** A status grpc-js made up on the gateway's side (no reply from the upstream), in the gateway's words, without addresses. */
export function localStatus(code: grpc.status, upstream: string): grpc.StatusObject {
  switch (code) {
    case grpc.status.UNAVAILABLE:
      return errorStatus(
        new GatehouseError(
          'UPSTREAM_UNAVAILABLE',
          `upstream ${upstream} did not answer: its endpoint could not be reached or closed the connection`,
          {
            retryDelayMs: 100,
            metadata: { upstream },
          },
        ),
      );
    case grpc.status.DEADLINE_EXCEEDED:
      return errorStatus(new GatehouseError('DEADLINE_EXCEEDED', `the deadline passed before upstream ${upstream} answered`));
    case grpc.status.CANCELLED:
      return errorStatus(new GatehouseError('CANCELLED', 'the call was cancelled'));
    case grpc.status.RESOURCE_EXHAUSTED:
      return errorStatus(new GatehouseError('RESPONSE_TOO_LARGE', `a reply of upstream ${upstream} is larger than server.maxSendMessageBytes`));
    default:
      return errorStatus(
        new GatehouseError('UPSTREAM_PROTOCOL_ERROR', `upstream ${upstream} sent a reply the gateway cannot pass on (${grpc.status[code]})`),
      );
  }
}

/** A gateway error as the status a grpc-js handler sends: code, message and the details trailer. */
export function errorStatus(error: GatehouseError): grpc.StatusObject {
  const status = statusFromError(error);
  return { code: status.code!, details: status.details ?? error.message, metadata: status.metadata ?? new grpc.Metadata() };
}
