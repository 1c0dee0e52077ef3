import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTO_FILES, PROTO_LOADER_OPTIONS } from './loader-options.js';

/**
 * Absolute path of the repository's proto/ directory, with a trailing slash: the nearest `proto/` above this module. Looked up rather than
 * fixed relative to this file because the module runs from `src/proto/` under tsx and from `dist/src/proto/` when
 * compiled (`npm run build`), one level deeper.
 */
export const PROTO_DIR = `${findUp(dirname(fileURLToPath(import.meta.url)), 'proto')}${sep}`;

function findUp(from: string, name: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, name, 'google'))) return join(dir, name);
    if (dirname(dir) === dir) throw new Error(`no ${name}/ directory above ${from}`);
  }
}

let cached: protoLoader.PackageDefinition | undefined;

/**
 * Loads all Gatehouse protos once per process. Parsing protos costs tens of
 * milliseconds, so servers, clients and tests share one package definition;
 * it is immutable, so sharing it is safe.
 */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync([...PROTO_FILES], { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
  return cached;
}

/** The service definition for a fully-qualified service name, e.g. `cheesefarm.v1.CheeseService`. */
export function loadServiceDefinition(fullName: string): grpc.ServiceDefinition {
  const definition = loadPackageDefinition()[fullName];
  if (!definition || !isServiceDefinition(definition)) {
    throw new Error(`proto service ${fullName} is not defined in ${PROTO_FILES.join(', ')}`);
  }
  return definition as grpc.ServiceDefinition;
}

/** A client constructor for a fully-qualified service name. */
export function loadClientConstructor(fullName: string): grpc.ServiceClientConstructor {
  return grpc.makeClientConstructor(loadServiceDefinition(fullName), fullName);
}

function isServiceDefinition(value: unknown): boolean {
  // Message and enum definitions carry `format`; service definitions are maps of methods.
  return typeof value === 'object' && value !== null && !('format' in value);
}
