import { fileURLToPath } from 'node:url';
import { PROTO_FILES } from './loader-options.js';

/**
 * Every proto server reflection describes, relative to proto/: the services'
 * own, the error model clients decode from grpc-status-details-bin, and the
 * infrastructure services (health, reflection). protoc adds their imports
 * (google/protobuf/*) to the set.
 */
export const REFLECTED_PROTO_FILES: readonly string[] = Object.freeze([
  ...PROTO_FILES,
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
  'grpc/health/v1/health.proto',
  'grpc/reflection/v1/reflection.proto',
  'grpc/reflection/v1alpha/reflection.proto',
]);

/** The FileDescriptorSet protoc builds from them (scripts/gen-descriptor-set.ts); generated, checked for drift in CI. */
export const DESCRIPTOR_SET_FILE = fileURLToPath(new URL('./descriptor-set.binpb', import.meta.url));
