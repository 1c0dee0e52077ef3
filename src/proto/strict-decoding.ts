import type * as grpc from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_DIR } from './load.js';
import { PROTO_FILES } from './loader-options.js';
import { compileWireFormatCheck } from './wire-format.js';

type RegisterArgs = Parameters<grpc.Server['register']>;

/**
 * Makes every method registered on `server` from now on refuse request bytes
 * that protobufjs would read differently from the protobuf specification
 * (src/proto/wire-format.ts), before they are decoded. The refusal is thrown
 * from the deserializer, so grpc-js ends the call as undecodable and the
 * handler never sees a misread message. Checks are compiled once per method
 * at registration, from the same .proto files the services are built from
 * (plus `extraProtoFiles`, e.g. health's and reflection's). A method no loaded
 * proto defines is left alone: its messages need not be protobuf at all (a
 * test service may speak JSON). Call before `addService`.
 */
export function refuseMisreadableRequests(servers: readonly grpc.Server[], extraProtoFiles: readonly string[] = []): void {
  const root = new protobuf.Root();
  // Same lookup as proto-loader's includeDirs: our proto/ first, then protobufjs's bundled google/protobuf files.
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : existsSync(join(PROTO_DIR, target)) ? join(PROTO_DIR, target) : target);
  root.loadSync([...PROTO_FILES, ...extraProtoFiles], { keepCase: true });
  root.resolveAll();
  for (const server of servers) wrapRegister(server, root);
}

function wrapRegister(server: grpc.Server, root: protobuf.Root): void {
  const register = server.register.bind(server);
  server.register = ((name: RegisterArgs[0], handler: RegisterArgs[1], serialize: RegisterArgs[2], deserialize: RegisterArgs[3], type: RegisterArgs[4]) => {
    const check = checkFor(root, name);
    if (check === undefined) return register(name, handler, serialize, deserialize, type);
    return register(name, handler, serialize, (bytes: Buffer) => {
      check(bytes);
      return deserialize(bytes);
    }, type);
  }) as grpc.Server['register'];
}

/** The request type's check for a method path `/pkg.Service/Method`, or undefined when no loaded proto defines it. */
function checkFor(root: protobuf.Root, path: string): ((bytes: Uint8Array) => void) | undefined {
  const match = /^\/(.+)\/([^/]+)$/.exec(path);
  if (!match) return undefined;
  const service = root.lookup(match[1]!);
  if (!(service instanceof protobuf.Service)) return undefined;
  const method = service.methods[match[2]!];
  return method?.resolvedRequestType ? compileWireFormatCheck(method.resolvedRequestType) : undefined;
}
