import { status as Status, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { compileIdentityPatterns } from '../../interceptors/identity-pattern.js';
import type { PeerIdentity } from '../../interceptors/peer-identity.js';
import { GatehouseError } from '../errors.js';
import { bidiStream } from '../handler.js';
import { DESCRIPTOR_SET_FILE } from '../proto/descriptor-files.js';
import { PROTO_DIR } from '../proto/load.js';
import { indexDescriptorSet, type DescribedFile, type DescriptorIndex } from './descriptor-index.js';

/** The reflection services Gatehouse serves: grpcurl and Python speak v1, older clients v1alpha; the protocol is the same. */
export const REFLECTION_SERVICE_NAMES = Object.freeze(['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']);

/** Options of {@link createReflectionServices}. */
export interface ReflectionOptions {
  /** The compiler's descriptors; default the set `npm run gen:proto` builds (src/proto/descriptor-set.binpb). */
  index?: DescriptorIndex;
  /** Every service on the listener, reflection included: `list_services` names these, and a file declaring any other service is not served. */
  services: readonly string[];
  /** `auth.allowedIdentities`: certificate identities (glob) that may use reflection, as for any other call. `**` admits any caller. */
  allowedIdentities: readonly string[];
}

/** A reflection service ready for `server.addService`. */
export interface ReflectionService {
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

let defaultIndex: DescriptorIndex | undefined;

/** The descriptor set protoc built for proto/, indexed once per process. */
export function loadDescriptorIndex(): DescriptorIndex {
  defaultIndex ??= indexDescriptorSet(readFileSync(DESCRIPTOR_SET_FILE));
  return defaultIndex;
}

/**
 * The gateway's descriptor set plus `extraFiles` (serialized FileDescriptorProtos of routed services, as their
 * upstream or descriptor set gave them), so reflection describes routed services too. The gateway's own files win a
 * name clash: what it hosts is always described by its own compiler output.
 */
export function descriptorIndexWith(extraFiles: readonly Uint8Array[]): DescriptorIndex {
  if (extraFiles.length === 0) return loadDescriptorIndex();
  const writer = protobuf.Writer.create();
  for (const file of extraFiles) writer.uint32(10).bytes(file); // FileDescriptorSet.file, field 1
  return indexDescriptorSet(Buffer.concat([writer.finish(), readFileSync(DESCRIPTOR_SET_FILE)]));
}

/**
 * Server reflection (v1 and v1alpha) from the compiler's own FileDescriptorProtos, served byte for byte, so
 * Go's protodesc, Python's descriptor_pool and grpcurl accept them. A file comes with every file it imports that
 * this stream has not sent yet (the requested file always). Only hosted services are listed, and files declaring
 * a service that is turned off are not served. Callers outside `allowedIdentities` are refused.
 */
export function createReflectionServices(options: ReflectionOptions): ReflectionService[] {
  const index = options.index ?? loadDescriptorIndex();
  const hosted = new Set(options.services);
  const listed = [...hosted].sort().map((name) => ({ name }));
  const checkCaller = identityCheck(options.allowedIdentities);
  const served = (file: DescribedFile | undefined) => (file?.services.every((service) => hosted.has(service)) ? file : undefined);

  const answer = (request: ReflectionRequest, sent: Set<string>): ReflectionResponse => {
    const reply = { valid_host: request.host ?? '', original_request: request };
    const files = (file: DescribedFile | undefined, what: string): ReflectionResponse => {
      if (!file) return { ...reply, error_response: { error_code: Status.NOT_FOUND, error_message: `${what} not found` } };
      const fresh = index.withDependencies(file).filter((f, i) => i === 0 || !sent.has(f.name));
      for (const f of fresh) sent.add(f.name);
      return { ...reply, file_descriptor_response: { file_descriptor_proto: fresh.map((f) => f.bytes) } };
    };
    switch (request.message_request) {
      case 'list_services':
        return { ...reply, list_services_response: { service: listed } };
      case 'file_by_filename':
        return files(served(index.file(request.file_by_filename ?? '')), `file ${request.file_by_filename}`);
      case 'file_containing_symbol':
        return files(served(index.fileOfSymbol(request.file_containing_symbol ?? '')), `symbol ${request.file_containing_symbol}`);
      case 'file_containing_extension': {
        const { containing_type: type = '', extension_number: number = 0 } = request.file_containing_extension ?? {};
        return files(served(index.extensionsOf(type).get(number)), `extension ${number} of ${type}`);
      }
      case 'all_extension_numbers_of_type': {
        const type = request.all_extension_numbers_of_type ?? '';
        if (!index.hasMessage(type))
          return { ...reply, error_response: { error_code: Status.NOT_FOUND, error_message: `message type ${type} not found` } };
        return { ...reply, all_extension_numbers_response: { base_type_name: type, extension_number: [...index.extensionsOf(type).keys()] } };
      }
      default:
        return {
          ...reply,
          error_response: { error_code: Status.INVALID_ARGUMENT, error_message: 'the request sets none of the message_request fields' },
        };
    }
  };

  const implementation = {
    ServerReflectionInfo: bidiStream<ReflectionRequest, ReflectionResponse>(async (requests, ctx, send) => {
      checkCaller(ctx.peer);
      const sent = new Set<string>();
      for await (const request of requests) await send(answer(request, sent));
    }),
  };
  return REFLECTION_SERVICE_NAMES.map((name) => ({ name, definition: reflectionDefinition(name), implementation }));
}

/** The allow-list check every other call gets from the policy (src/chain.ts keeps reflection out of the token layers). */
function identityCheck(allowedIdentities: readonly string[]): (peer: PeerIdentity | undefined) => void {
  if (allowedIdentities.includes('**')) return () => undefined;
  const allowed = compileIdentityPatterns(allowedIdentities);
  return (peer) => {
    if (peer === undefined) {
      throw new GatehouseError('CLIENT_CERTIFICATE_REQUIRED', 'server reflection requires a client certificate');
    }
    if (!allowed(peer.identity)) {
      throw new GatehouseError('IDENTITY_NOT_ALLOWED', `client certificate identity ${peer.identity} is not allowed to use server reflection`);
    }
  };
}

function reflectionDefinition(name: string): ServiceDefinition {
  const version = name.split('.')[2]!;
  const file = join(PROTO_DIR, 'grpc', 'reflection', version, 'reflection.proto');
  // Original field names and a virtual field naming the set oneof member: the shapes this file's types describe.
  const definition = protoLoader.loadSync(file, { keepCase: true, longs: Number, enums: Number, defaults: false, oneofs: true });
  return definition[name] as ServiceDefinition;
}

interface ReflectionRequest {
  host?: string;
  message_request?: 'file_by_filename' | 'file_containing_symbol' | 'file_containing_extension' | 'all_extension_numbers_of_type' | 'list_services';
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type?: string; extension_number?: number };
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

type ReflectionResponse = {
  valid_host: string;
  original_request: ReflectionRequest;
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  all_extension_numbers_response?: { base_type_name: string; extension_number: number[] };
  list_services_response?: { service: { name: string }[] };
  error_response?: { error_code: number; error_message: string };
};
