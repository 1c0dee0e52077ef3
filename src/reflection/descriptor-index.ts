import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

/** One file of the descriptor set: its exact bytes as protoc wrote them, and what reflection needs to know of it. */
export interface DescribedFile {
  /** Path as imported, e.g. `cheesefarm/v1/cheese.proto`. */
  readonly name: string;
  /** The serialized FileDescriptorProto, unchanged from the set. */
  readonly bytes: Buffer;
  /** Files it imports, by name. */
  readonly dependencies: readonly string[];
  /** Fully-qualified services it declares. */
  readonly services: readonly string[];
}

/** Lookups over a FileDescriptorSet, built once at start. */
export interface DescriptorIndex {
  /** A file by name. */
  file(name: string): DescribedFile | undefined;
  /** The file declaring a fully-qualified symbol: message, enum, enum value, field, service, method or extension. */
  fileOfSymbol(symbol: string): DescribedFile | undefined;
  /** Whether a fully-qualified message type exists. */
  hasMessage(name: string): boolean;
  /** Extension field numbers declared for a message type, and the file declaring each. */
  extensionsOf(messageType: string): ReadonlyMap<number, DescribedFile>;
  /** `file` and every file it imports, transitively, the file itself first. */
  withDependencies(file: DescribedFile): DescribedFile[];
}

interface Named {
  name?: string | null;
}
interface MessageShape extends Named {
  field?: Named[];
  nestedType?: MessageShape[];
  enumType?: EnumShape[];
  extension?: ExtensionShape[];
}
interface EnumShape extends Named {
  value?: Named[];
}
interface ExtensionShape extends Named {
  extendee?: string | null;
  number?: number | null;
}
interface FileShape extends Named {
  package?: string | null;
  dependency?: string[];
  messageType?: MessageShape[];
  enumType?: EnumShape[];
  service?: (Named & { method?: Named[] })[];
  extension?: ExtensionShape[];
}

/**
 * Indexes a serialized FileDescriptorSet (as `protoc --descriptor_set_out --include_imports` writes it).
 * Each file keeps its original bytes: reflection serves exactly what the compiler produced, never a re-encoding.
 */
export function indexDescriptorSet(set: Uint8Array): DescriptorIndex {
  const files = new Map<string, DescribedFile>();
  const symbols = new Map<string, DescribedFile>();
  const messages = new Set<string>();
  const extensions = new Map<string, Map<number, DescribedFile>>();

  for (const bytes of fileBytes(set)) {
    const proto = descriptor.FileDescriptorProto.decode(bytes) as unknown as FileShape;
    const prefix = proto.package ? `${proto.package}.` : '';
    const services = (proto.service ?? []).map((service) => `${prefix}${service.name}`);
    const file: DescribedFile = { name: proto.name ?? '', bytes: Buffer.from(bytes), dependencies: proto.dependency ?? [], services };
    files.set(file.name, file);
    const add = (symbol: string) => symbols.set(symbol, file);
    const addExtensions = (scope: string, list: ExtensionShape[] | undefined) => {
      for (const extension of list ?? []) {
        add(`${scope}${extension.name}`);
        const extendee = (extension.extendee ?? '').replace(/^\./, '');
        if (!extensions.has(extendee)) extensions.set(extendee, new Map());
        extensions.get(extendee)!.set(extension.number ?? 0, file);
      }
    };
    // Enum values live in the enum's enclosing scope, as protobuf's name resolution has it.
    const addEnums = (scope: string, list: EnumShape[] | undefined) => {
      for (const enumType of list ?? []) {
        add(`${scope}${enumType.name}`);
        for (const value of enumType.value ?? []) add(`${scope}${value.name}`);
      }
    };
    const addMessages = (scope: string, list: MessageShape[] | undefined) => {
      for (const message of list ?? []) {
        const name = `${scope}${message.name}`;
        add(name);
        messages.add(name);
        for (const field of message.field ?? []) add(`${name}.${field.name}`);
        addMessages(`${name}.`, message.nestedType);
        addEnums(`${name}.`, message.enumType);
        addExtensions(`${name}.`, message.extension);
      }
    };
    addMessages(prefix, proto.messageType);
    addEnums(prefix, proto.enumType);
    addExtensions(prefix, proto.extension);
    for (const service of proto.service ?? []) {
      add(`${prefix}${service.name}`);
      for (const method of service.method ?? []) add(`${prefix}${service.name}.${method.name}`);
    }
  }

  return {
    file: (name) => files.get(name),
    fileOfSymbol: (symbol) => symbols.get(symbol.replace(/^\./, '')),
    hasMessage: (name) => messages.has(name.replace(/^\./, '')),
    extensionsOf: (messageType) => extensions.get(messageType.replace(/^\./, '')) ?? new Map(),
    withDependencies(file) {
      const seen = new Set<string>();
      const order: DescribedFile[] = [];
      const visit = (current: DescribedFile) => {
        if (seen.has(current.name)) return;
        seen.add(current.name);
        order.push(current);
        for (const dependency of current.dependencies) {
          const found = files.get(dependency);
          // protoc --include_imports puts every import in the set; a gap would be a broken build, not a client error.
          if (!found) throw new Error(`descriptor set: ${current.name} imports ${dependency}, which the set does not hold`);
          visit(found);
        }
      };
      visit(file);
      return order;
    },
  };
}

/** The `file` entries (field 1) of a FileDescriptorSet, as the exact bytes of each FileDescriptorProto. */
export function fileBytes(set: Uint8Array): Uint8Array[] {
  const reader = protobuf.Reader.create(set);
  const out: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) out.push(reader.bytes());
    else reader.skipType(tag & 7);
  }
  return out;
}
