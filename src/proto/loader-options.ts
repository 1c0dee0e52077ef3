import type { Options } from '@grpc/proto-loader';

/**
 * The one set of proto-loader options. The runtime loader and the type generator
 * (scripts/gen-proto-types.ts) must agree, or generated types would lie about
 * the objects handlers receive: camelCase fields, enums as their names, 64-bit
 * integers as strings, every field present with its default, and a virtual
 * field naming the set member of each oneof.
 */
export const PROTO_LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: false,
  oneofs: true,
});

/** Every .proto file Gatehouse serves, relative to the proto/ directory. */
export const PROTO_FILES: readonly string[] = Object.freeze([
  'cheesefarm/v1/cheese.proto',
  'gatehouse/tts/v1/tts.proto',
  'gatehouse/stt/v1/stt.proto',
]);
