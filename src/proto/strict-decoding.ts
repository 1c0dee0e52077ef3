import type * as grpc from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import { checkRequestBytes } from '../../interceptors/grpc-compat.js';
import { PROTO_DIR } from './load.js';
import { PROTO_FILES } from './loader-options.js';
import { compileWireFormatCheck } from './wire-format.js';

/**
 * Makes every method registered on `server` from now on refuse request bytes
 * that protobufjs would read differently from the protobuf specification
 * (src/proto/wire-format.ts), before they are decoded. The refusal is thrown
 * from the deserializer, so grpc-js ends the call as undecodable and the
 * handler never sees a misread message. Checks are compiled once per method
 * at registration, from the same .proto files the services are built from
 * (plus `extraProtoFiles`, e.g. health's and reflection's). A method no loaded
 * proto defines is left alone: its messages need not be protobuf at all (a
 * test service may speak JSON). Call before `addService` (the hook is
 * interceptors/grpc-compat.ts's `checkRequestBytes`).
 */
export function refuseMisreadableRequests(servers: readonly grpc.Server[], extraProtoFiles: readonly string[] = []): void {
  const root = new protobuf.Root();
  // Same lookup as proto-loader's includeDirs: our proto/ first, then protobufjs's bundled google/protobuf files.
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : existsSync(join(PROTO_DIR, target)) ? join(PROTO_DIR, target) : target);
  root.loadSync([...PROTO_FILES, ...extraProtoFiles], { keepCase: true });
  root.resolveAll();
  for (const server of servers) checkRequestBytes(server, (path) => checkFor(root, path));
}

/** The request type's check for a method path `/pkg.Service/Method`, or undefined when no loaded proto defines it. */
function checkFor(root: protobuf.Root, path: string): ((bytes: Uint8Array) => void) | undefined {
  const match = /^\/(.+)\/([^/]+)$/.exec(path);
  if (!match) return undefined;
  // Both groups always take part in a match, so they are defined here.
  const service = root.lookup(match[1]!);
  if (!(service instanceof protobuf.Service)) return undefined;
  const method = service.methods[match[2]!];
  return method?.resolvedRequestType ? compileWireFormatCheck(method.resolvedRequestType) : undefined;
}
