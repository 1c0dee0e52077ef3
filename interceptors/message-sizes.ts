import type { Server } from '@grpc/grpc-js';

/**
 * Serialized size in bytes of each message object grpc-js encoded or decoded,
 * keyed by the object itself. Interceptors only ever see decoded objects;
 * re-encoding them to count bytes would double the serialization cost, so the
 * server's (de)serializers note the size they already know.
 */
export type MessageSizes = WeakMap<object, number>;

/** A fresh size table; one per server. */
export function createMessageSizes(): MessageSizes {
  return new WeakMap();
}

type RegisterArgs = Parameters<Server['register']>;

/**
 * Makes every method registered on `server` from now on record message sizes
 * in `sizes`. Call it right after constructing the server, before
 * `addService` (health and reflection included: they all go through
 * `register`).
 */
export function recordMessageSizes(server: Server, sizes: MessageSizes): void {
  const register = server.register.bind(server);
  server.register = ((name: RegisterArgs[0], handler: RegisterArgs[1], serialize: RegisterArgs[2], deserialize: RegisterArgs[3], type: RegisterArgs[4]) =>
    register(
      name,
      handler,
      (value: unknown) => {
        const bytes = serialize(value);
        if (typeof value === 'object' && value !== null) sizes.set(value, bytes.length);
        return bytes;
      },
      (bytes: Buffer) => {
        const value = deserialize(bytes);
        if (typeof value === 'object' && value !== null) sizes.set(value, bytes.length);
        return value;
      },
      type,
    )) as Server['register'];
}
