import type { Server } from '@grpc/grpc-js';

/**
 * Where a message object carries its serialized size. A symbol: invisible to
 * JSON, `Object.keys` and protobuf encoders, so handlers never see it.
 */
const SIZE = Symbol('gatehouse.messageBytes');

type Sized = { [SIZE]?: number };

/**
 * Serialized size in bytes of a message grpc-js decoded or encoded on a server
 * set up with {@link recordMessageSizes}; undefined for anything else.
 */
export function messageSize(message: unknown): number | undefined {
  return typeof message === 'object' && message !== null ? (message as Sized)[SIZE] : undefined;
}

type RegisterArgs = Parameters<Server['register']>;

/**
 * Makes every method registered on `server` from now on note each message's
 * serialized size on the message object, for the access log's bytes in/out.
 * Interceptors only ever see decoded objects; re-encoding them to count bytes
 * would double the serialization cost, and a side table keyed by object
 * (WeakMap) costs more per message than the property. Frozen or sealed reply
 * objects are left alone (their size is then unknown). Call it right after
 * constructing the server, before `addService` (health and reflection
 * included: they all go through `register`).
 */
export function recordMessageSizes(server: Server): void {
  const register = server.register.bind(server);
  server.register = ((name: RegisterArgs[0], handler: RegisterArgs[1], serialize: RegisterArgs[2], deserialize: RegisterArgs[3], type: RegisterArgs[4]) =>
    register(
      name,
      handler,
      (value: unknown) => {
        const bytes = serialize(value);
        if (typeof value === 'object' && value !== null && Object.isExtensible(value)) (value as Sized)[SIZE] = bytes.length;
        return bytes;
      },
      (bytes: Buffer) => {
        const value = deserialize(bytes);
        if (typeof value === 'object' && value !== null && Object.isExtensible(value)) (value as Sized)[SIZE] = bytes.length;
        return value;
      },
      type,
    )) as Server['register'];
}
