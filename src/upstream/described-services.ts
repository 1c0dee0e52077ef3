import descriptor from 'protobufjs/ext/descriptor/index.js';

/** One method of a routed service, as its descriptor declares it. */
export interface DescribedMethod {
  /** `Order`. */
  readonly name: string;
  /** The client sends a stream of messages. */
  readonly clientStreaming: boolean;
  /** The server replies with a stream of messages. */
  readonly serverStreaming: boolean;
}

/** One service found in FileDescriptorProtos. */
export interface DescribedService {
  /** Fully-qualified name (`cheesefarm.CheeseService`, or a bare `Search` from a file without package). */
  readonly name: string;
  readonly methods: readonly DescribedMethod[];
}

interface FileShape {
  name?: string | null;
  package?: string | null;
  dependency?: string[];
  service?: { name?: string | null; method?: { name?: string | null; clientStreaming?: boolean | null; serverStreaming?: boolean | null }[] }[];
}

/** What one FileDescriptorProto declares: its name, imports and services. */
export interface FileSummary {
  readonly name: string;
  readonly dependencies: readonly string[];
  readonly services: readonly DescribedService[];
}

/** Reads the name, imports and services of one serialized FileDescriptorProto. */
export function summarizeFile(bytes: Uint8Array): FileSummary {
  const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as FileShape;
  const prefix = file.package ? `${file.package}.` : '';
  return {
    name: file.name ?? '',
    dependencies: file.dependency ?? [],
    services: (file.service ?? []).map((service) => ({
      name: `${prefix}${service.name ?? ''}`,
      methods: (service.method ?? []).map((method) => ({
        name: method.name ?? '',
        clientStreaming: method.clientStreaming === true,
        serverStreaming: method.serverStreaming === true,
      })),
    })),
  };
}
