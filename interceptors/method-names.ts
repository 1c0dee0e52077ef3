import type { ServiceDefinition } from '@grpc/grpc-js';

/** The four gRPC call kinds, spelled as go-grpc-middleware labels them (`grpc_type`). */
export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** A method's names, split once at start rather than per call. */
export interface MethodNames {
  /** Full path, `/package.Service/Method`. */
  path: string;
  /** `package.Service`. */
  service: string;
  /** `Method`. */
  method: string;
  /** Call kind. */
  type: GrpcType;
}

/** Splits `/package.Service/Method`; a path without a service part gets an empty service. */
export function methodNames(path: string, requestStream: boolean, responseStream: boolean): MethodNames {
  const slash = path.lastIndexOf('/');
  return {
    path,
    service: path.slice(path.startsWith('/') ? 1 : 0, Math.max(slash, 0)),
    method: path.slice(slash + 1),
    type: grpcType(requestStream, responseStream),
  };
}

/** The call kind from the two streaming flags. */
export function grpcType(requestStream: boolean, responseStream: boolean): GrpcType {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

/** Every method of the given service definitions, for initialising per-method state at start. */
export function methodsOf(services: readonly ServiceDefinition[]): MethodNames[] {
  const methods: MethodNames[] = [];
  for (const definition of services) {
    for (const method of Object.values(definition)) {
      methods.push(methodNames(method.path, method.requestStream, method.responseStream));
    }
  }
  return methods;
}

/**
 * Status code names as Go's `codes.Code.String()` spells them, indexed by code:
 * go-grpc-middleware's `grpc_code` label, so dashboards written for Go servers work.
 */
export const GO_CODE_NAMES: readonly string[] = Object.freeze([
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
]);

/** Canonical UPPER_SNAKE status names, indexed by code (logs, span attributes). */
export const CODE_NAMES = Object.freeze([
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const);
