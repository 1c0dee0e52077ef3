import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { ServiceClients, ServiceName } from '../generated/services.js';
import { loadClientConstructor } from '../proto/load.js';

/** Files a client presents and trusts. */
export interface ClientTlsFiles {
  /** CA bundle that must have signed the server certificate. */
  caFile?: string;
  /** Client certificate (mTLS). */
  certFile?: string;
  /** Private key of the client certificate. */
  keyFile?: string;
}

/** Channel credentials from files; no files at all means plaintext. */
export function channelCredentials(files: ClientTlsFiles | 'insecure'): grpc.ChannelCredentials {
  if (files === 'insecure') return grpc.credentials.createInsecure();
  const read = (path?: string) => (path ? readFileSync(path) : null);
  return grpc.credentials.createSsl(read(files.caFile), read(files.keyFile), read(files.certFile));
}

/**
 * A client for a fully-qualified service name. For a Gatehouse service it has
 * the generated client type (src/generated/services.ts), so requests, replies
 * and method names are checked; any other name gives an untyped client whose
 * methods the by-name helpers below can call (tests of raw wire behaviour).
 */
export function createClient<N extends ServiceName>(
  serviceName: N,
  target: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
): ServiceClients[N];
export function createClient(serviceName: string, target: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions): grpc.Client;
export function createClient(
  serviceName: string,
  target: string,
  credentials: grpc.ChannelCredentials,
  options: grpc.ChannelOptions = {},
): grpc.Client {
  const Client = loadClientConstructor(serviceName);
  // The constructor is made from the same .proto files the generated client type was made from (check:proto
  // keeps them in step), which is what makes the typed overload above sound.
  return new Client(target, credentials, { 'grpc.max_receive_message_length': 64 * 1024 * 1024, ...options });
}

/** grpc-js call options (the deadline) from {@link CallOptions}. */
export function grpcCallOptions(options: CallOptions): grpc.CallOptions {
  if (options.deadline === undefined) return {};
  return { deadline: typeof options.deadline === 'number' ? Date.now() + options.deadline : options.deadline };
}

/**
 * Awaits the reply of a unary call that `start` makes with a generated
 * client's method, e.g. `unaryReply<Cheese__Output>((done) => client.getOrder(request, metadata, options, done))`;
 * rejects with the grpc ServiceError. The call is cancelled when `signal` fires.
 */
export function unaryReply<Res>(start: (done: grpc.requestCallback<Res>) => grpc.ClientUnaryCall, signal?: AbortSignal): Promise<Res> {
  return new Promise((resolve, reject) => {
    // grpc-js passes a reply whenever it passes no error.
    const call = start((error, response) => (error ? reject(error) : resolve(response as Res)));
    signal?.addEventListener('abort', () => call.cancel(), { once: true });
  });
}

/** Per-call options. */
export interface CallOptions {
  metadata?: grpc.Metadata;
  /** Absolute deadline, or milliseconds from now. */
  deadline?: Date | number;
  /** Cancels the call when it fires. */
  signal?: AbortSignal;
}

// The helpers below call a method by its name on any client: tests use them to drive services they build on the
// fly and raw wire behaviour. Typed code (the CLI) calls a generated client's methods instead.

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

/** Calls a unary method and resolves with the reply; rejects with the grpc ServiceError. */
export function callUnary<Res>(client: grpc.Client, method: string, request: unknown, options: CallOptions = {}): Promise<Res> {
  const fn = methodOf<UnaryMethod>(client, method);
  return new Promise((resolve, reject) => {
    const call = fn.call(client, request, options.metadata ?? new grpc.Metadata(), grpcCallOptions(options), (error, response) =>
      error ? reject(error) : resolve(response as Res),
    );
    options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
  });
}

/** Opens a server stream. */
export function openServerStream<Res>(
  client: grpc.Client,
  method: string,
  request: unknown,
  options: CallOptions = {},
): grpc.ClientReadableStream<Res> {
  const fn = methodOf<(r: unknown, m: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<Res>>(client, method);
  const call = fn.call(client, request, options.metadata ?? new grpc.Metadata(), grpcCallOptions(options));
  options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
  return call;
}

/** Reads a server stream to its end; rejects with the status if it ends in error. */
export async function collectServerStream<Res>(client: grpc.Client, method: string, request: unknown, options: CallOptions = {}): Promise<Res[]> {
  const messages: Res[] = [];
  for await (const message of openServerStream<Res>(client, method, request, options)) messages.push(message as Res);
  return messages;
}

/** Sends every request on a client stream and resolves with the one reply. */
export function callClientStream<Res>(
  client: grpc.Client,
  method: string,
  requests: Iterable<unknown> | AsyncIterable<unknown>,
  options: CallOptions = {},
): Promise<Res> {
  type Fn = (m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: unknown) => void) => grpc.ClientWritableStream<unknown>;
  const fn = methodOf<Fn>(client, method);
  return new Promise((resolve, reject) => {
    const call = fn.call(client, options.metadata ?? new grpc.Metadata(), grpcCallOptions(options), (error, response) =>
      error ? reject(error) : resolve(response as Res),
    );
    options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
    void (async () => {
      for await (const request of requests) {
        if (!call.write(request)) await new Promise((r) => call.once('drain', r));
      }
      call.end();
    })().catch((error: unknown) => {
      call.cancel();
      reject(error);
    });
  });
}

/** Opens a bidirectional stream. */
export function openBidiStream<Req, Res>(client: grpc.Client, method: string, options: CallOptions = {}): grpc.ClientDuplexStream<Req, Res> {
  const fn = methodOf<(m: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<Req, Res>>(client, method);
  const call = fn.call(client, options.metadata ?? new grpc.Metadata(), grpcCallOptions(options));
  options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
  return call;
}

function methodOf<F>(client: grpc.Client, method: string): F {
  const fn = (client as unknown as Record<string, unknown>)[method];
  if (typeof fn !== 'function') throw new Error(`the client has no method ${method}`);
  return fn as F;
}

/** Metadata carrying `authorization: Bearer <token>`, plus any extra pairs. */
export function bearerMetadata(token: string | undefined, extra: Record<string, string> = {}): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
  return metadata;
}
