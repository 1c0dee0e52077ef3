import protobuf from 'protobufjs';
import descriptorExt from 'protobufjs/ext/descriptor/index.js';
import { readFileSync } from 'node:fs';
import { DESCRIPTOR_SET_FILE } from '../proto/descriptor-files.js';
import { PROTO_DIR } from '../proto/load.js';

/** One `google.api.http` rule as protoc stored it in a method's options. */
export interface HttpRule {
  get?: string;
  put?: string;
  post?: string;
  delete?: string;
  patch?: string;
  custom?: { kind?: string; path?: string };
  body?: string;
  response_body?: string;
  additional_bindings?: HttpRule[];
}

/** A method of the API as the descriptor set declares it. */
export interface ApiMethod {
  /** `/package.Service/Method`: the gRPC path, and the label metrics and logs use. */
  readonly path: string;
  readonly requestType: protobuf.Type;
  readonly responseType: protobuf.Type;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  /** The method's `google.api.http` rule, when annotated. */
  readonly http?: HttpRule;
}

/** The compiler's view of proto/: message types for the JSON mapping, and every method with its HTTP rule. */
export interface ApiDescriptors {
  /** Message types with the original (snake_case) field names, as in the descriptors. */
  readonly root: protobuf.Root;
  /** Every method of every service in the set, by gRPC path. */
  readonly methods: ReadonlyMap<string, ApiMethod>;
}

// protobufjs's bundled descriptor.proto names fields in lowerCamelCase whatever keepCase says.
interface MethodShape {
  name: string;
  inputType: string;
  outputType: string;
  clientStreaming?: boolean;
  serverStreaming?: boolean;
  options?: Record<string, unknown>;
}
interface FileShape {
  package?: string;
  service?: { name: string; method?: MethodShape[] }[];
}

/**
 * Reads protoc's descriptor set (src/proto/descriptor-set.binpb, the one
 * reflection serves) once at start. Types come from protobufjs's descriptor
 * support; the HTTP rules are decoded with `google/api/annotations.proto`
 * loaded, so the `google.api.http` extension of MethodOptions is read rather
 * than skipped as an unknown field.
 */
export function loadApiDescriptors(file = DESCRIPTOR_SET_FILE): ApiDescriptors {
  const bytes = readFileSync(file);
  const root = (protobuf.Root as unknown as { fromDescriptor(set: Uint8Array): protobuf.Root }).fromDescriptor(bytes);
  root.resolveAll();
  void descriptorExt; // the import installs Root.fromDescriptor

  const annotations = new protobuf.Root();
  annotations.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : PROTO_DIR + target);
  annotations.loadSync(['google/api/annotations.proto'], { keepCase: true });
  const setType = annotations.lookupType('google.protobuf.FileDescriptorSet');
  const set = setType.toObject(setType.decode(bytes), { arrays: true }) as { file: FileShape[] };

  const methods = new Map<string, ApiMethod>();
  for (const fileShape of set.file) {
    for (const service of fileShape.service ?? []) {
      const serviceName = fileShape.package ? `${fileShape.package}.${service.name}` : service.name;
      for (const method of service.method ?? []) {
        const path = `/${serviceName}/${method.name}`;
        methods.set(
          path,
          Object.freeze({
            path,
            requestType: root.lookupType(method.inputType),
            responseType: root.lookupType(method.outputType),
            requestStream: method.clientStreaming === true,
            responseStream: method.serverStreaming === true,
            http: method.options?.['.google.api.http'] as HttpRule | undefined,
          }),
        );
      }
    }
  }
  return { root, methods };
}
