import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

/**
 * FileDescriptorProtos for `.proto` files named in a route, parsed by
 * protobufjs (no protoc needed where the gateway runs). Imports are looked up
 * in `includeDirs`, then next to the importing file; protobufjs's bundled
 * google/protobuf files fill in the well-known types. Enough to route
 * (service, method and streaming names are exact); protobufjs renders a
 * file without package as `root.proto`, so a descriptor set from protoc
 * serves reflection more faithfully. Throws on a file that does not parse.
 */
export function descriptorFilesFromProtos(files: readonly string[], includeDirs: readonly string[]): Uint8Array[] {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (isAbsolute(target)) return target;
    for (const dir of includeDirs) if (existsSync(join(dir, target))) return resolve(dir, target);
    return origin ? join(dirname(origin), target) : target;
  };
  root.loadSync(
    files.map((file) => resolve(file)),
    { keepCase: true },
  );
  root.resolveAll();
  const set = (root as unknown as { toDescriptor(syntax: string): { file: object[] } }).toDescriptor('proto3');
  return set.file.map((file) => descriptor.FileDescriptorProto.encode(file as never).finish());
}
