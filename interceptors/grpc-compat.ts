/**
 * Every use of @grpc/grpc-js internals in Gatehouse, in one place.
 *
 * grpc-js is pinned to an exact version in package.json because of this file;
 * test/unit/grpc-compat.test.ts checks each assumption below against the
 * installed grpc-js and fails loudly (naming the assumption) when an upgrade
 * breaks one. Nothing else in the repository may reach into grpc-js beyond its
 * exported, documented API: `git grep` for the names used here should find
 * them only in this file and its contract test.
 */
import type { Deadline, Server, ServerCredentials, ServerInterceptingCall, ServerInterceptingCallInterface } from '@grpc/grpc-js';
import type { Http2SecureServer, Http2Server, IncomingHttpHeaders, SecureServerOptions, ServerHttp2Stream } from 'node:http2';

/** The grpc-js version whose internals this module was written against (package.json pins exactly this). */
export const GRPC_JS_VERSION = '1.14.7';

// ---------------------------------------------------------------------------------------------------------------
// Types. grpc-js does not export these from its index; they are derived from exported types, so no deep import
// pins its file layout. (Types only: nothing here is an internal at run time.)

/** The inbound listener an interceptor passes down in `start`. */
export type InterceptingServerListener = Parameters<ServerInterceptingCallInterface['start']>[0];
/** What `getAuthContext()` returns. */
export type AuthContext = ReturnType<ServerInterceptingCallInterface['getAuthContext']>;
/** What `getConnectionInfo()` returns. */
export type ConnectionInfo = ReturnType<ServerInterceptingCallInterface['getConnectionInfo']>;
/** What `getMetricsRecorder()` returns. */
export type PerRequestMetricRecorder = ReturnType<ServerInterceptingCallInterface['getMetricsRecorder']>;
/** A status as interceptors pass it on (grpc-js's `PartialStatusObject`): code and details, metadata optional. */
export type PartialStatus = Parameters<ServerInterceptingCallInterface['sendStatus']>[0];

/** The call's deadline as epoch milliseconds; `Infinity` when the client sent none. */
export function deadlineMs(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. An interceptor returning its own call object.
//
// Why no public API suffices: `ServerInterceptor` is typed to return the class `ServerInterceptingCall`, whose
// public constructor needs a `Responder` and a listener object and allocates a closure per hook per call. grpc-js
// itself only ever calls the `ServerInterceptingCallInterface` methods on what an interceptor returns (it chains
// them with `reduce` and calls `start`, `sendStatus`, ...), so an object implementing that interface works; the
// type system just cannot say so. Contract: test/unit/grpc-compat.test.ts drives a call through such an object.

/** Presents an object implementing the interface as grpc-js's interceptor return type. */
export function asServerInterceptingCall(call: ServerInterceptingCallInterface): ServerInterceptingCall {
  return call as unknown as ServerInterceptingCall;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Seeing the statuses grpc-js writes by itself.
//
// Why no public API suffices: when grpc-js ends a call on its own (its enforcement of the client's deadline, an
// oversized, undecodable or badly compressed request, a malformed grpc-timeout) it calls `sendStatus` on its own
// base call object (`BaseServerInterceptingCall`), below every interceptor, so no interceptor's hook sees that
// status; only `onCancel` fires, without the code. Metrics, logs and spans need the code the client got, and the
// client deserves a clear message. The class is not exported, so it is recognised by name and shape on the first
// call, and its prototype's `sendStatus` is wrapped once: the wrapper asks the call's listener (the object the
// first interceptor passed to `start`, kept in `this.listener`) when it is an observer, and otherwise only calls
// the original. Nothing is written on the call objects themselves, so their shape (and grpc-js's speed) is as
// without us. It also uses the base call's `checkCancelled()`: a status for a stream the client has already reset
// is never written, so it must not be recorded as the call's outcome (issue 12 item 4).

/** Told about every status the base call is about to write. */
export interface WireStatusObserver {
  /** Returns the status to write instead (same object when unchanged). Not called when nothing will be written. */
  onWireStatus(status: PartialStatus): PartialStatus;
}

interface BaseCallInternals {
  listener: Partial<WireStatusObserver> | null;
  checkCancelled(): boolean;
}

const BASE_CALL_CLASS = 'BaseServerInterceptingCall';
let baseProto: object | undefined;

/**
 * Makes the listener `observer` see every status grpc-js's own call object
 * writes, its own included, once `observer` is what the first interceptor
 * passes to `call.start`. `call` must be what the first interceptor of a
 * server receives. Returns false when `call` is not grpc-js's base call as
 * this version knows it; callers then fall back to inference.
 */
export function observeWireStatus(call: ServerInterceptingCallInterface): boolean {
  const proto = Object.getPrototypeOf(call) as { constructor?: { name?: string }; sendStatus?: unknown; checkCancelled?: unknown } | null;
  if (proto === baseProto) return true;
  if (
    proto?.constructor?.name !== BASE_CALL_CLASS ||
    typeof proto.sendStatus !== 'function' ||
    typeof proto.checkCancelled !== 'function' ||
    !('listener' in call)
  )
    return false;
  const original = proto.sendStatus as (this: BaseCallInternals, status: PartialStatus) => void;
  proto.sendStatus = function observedSendStatus(this: BaseCallInternals, status: PartialStatus): void {
    const listener = this.listener;
    // Not ours, or nothing will be written (the stream is gone): grpc-js goes on exactly as it would.
    if (listener === null || listener.onWireStatus === undefined || this.checkCancelled()) original.call(this, status);
    else original.call(this, listener.onWireStatus(status));
  };
  baseProto = proto;
  return true;
}

/**
 * Calls `done(reset)` once the call's HTTP/2 stream has closed: `reset` is
 * true when it ended with RST_STREAM (any code but NO_ERROR), i.e. the client
 * reset it (or the connection died) and whatever status the server wrote was
 * not read. Why no public API suffices: grpc-js keeps the stream private and
 * reports a reset only as `onCancel`, the same event as a normal end, often
 * before the reset has even been read. For anything that is not grpc-js's base
 * call, `done(false)` at once.
 */
export function whenStreamClosed<T>(call: ServerInterceptingCallInterface, done: (reset: boolean, arg: T) => void, arg: T): void {
  const stream = (call as unknown as { stream?: { closed?: boolean; rstCode?: number; once(event: 'close', listener: () => void): void } }).stream;
  if (stream === undefined || typeof stream.once !== 'function') {
    done(false, arg);
    return;
  }
  const settle = () => done(typeof stream.rstCode === 'number' && stream.rstCode !== 0, arg);
  if (stream.closed) settle();
  else stream.once('close', settle);
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Hooks on the HTTP/2 servers grpc-js creates.
//
// Why no public API suffices: grpc-js creates its `http2.Server`s inside `bindAsync` (in its method
// `createHttp2Server`) and exposes neither the servers nor the raw request headers. Three things need them:
//  - Node keeps only the first of repeated `authorization` headers in the headers object grpc-js reads (the raw
//    list has them all), and grpc-js drops values it cannot store (a tab, for one); duplicates must be counted on
//    the raw list so authentication can refuse them (issue 12 item 2).
//  - grpc-js computes the deadline timer from `grpc-timeout` with `| 0`, so a deadline past 2^31 ms (24.8 days)
//    wraps negative and the call is treated as already expired (issue 12 item 12): the header is clamped first.
//  - draining must refuse new connections and new streams from the moment it starts, which `tryShutdown` only
//    does for the sessions that exist when it is called (issue 12 item 16).
// Listeners are added with `prependListener('stream')`, so they run before grpc-js's own.

/** What a gateway adds to each HTTP/2 server grpc-js creates. */
export interface Http2ServerHooks {
  /** Runs on each new stream before grpc-js sees its headers; may edit `headers`. */
  onStream?(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): void;
  /** Gets each HTTP/2 server once created (before it listens). */
  onServer?(server: Http2Server): void;
}

/**
 * Adds `hooks` to every HTTP/2 server grpc-js creates for `server` from now
 * on; call before `bindAsync`. Returns false when grpc-js no longer has the
 * method (an upgrade); the contract test fails on that.
 */
export function hookHttp2Servers(server: Server, hooks: Http2ServerHooks): boolean {
  const target = server as unknown as { createHttp2Server?: (credentials: ServerCredentials) => Http2Server };
  const original = target.createHttp2Server;
  if (typeof original !== 'function') return false;
  const onStream = hooks.onStream;
  target.createHttp2Server = function createHttp2Server(this: unknown, credentials: ServerCredentials): Http2Server {
    const http2Server = original.call(this, credentials);
    if (onStream) {
      http2Server.prependListener('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) =>
        onStream(stream, headers, rawHeaders),
      );
    }
    hooks.onServer?.(http2Server);
    return http2Server;
  };
  return true;
}

/** grpc-js's own `grpc-timeout` pattern (unanchored, as it matches), used to clamp what it would overflow on. */
export const GRPC_TIMEOUT_PATTERN = /(\d{1,8})\s*([HMSmun])/;

/** Marks values of a repeated header as one list grpc-js turns into repeated metadata (see {@link hookHttp2Servers}). */
export function setHeaderValues(headers: IncomingHttpHeaders, name: string, values: string[]): void {
  (headers as Record<string, unknown>)[name] = values;
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Message sizes.
//
// Why no public API suffices: interceptors only ever see decoded objects, and re-encoding them to count bytes
// would double the serialization cost. `Server.register` is declared on the class but undocumented: it is how
// `addService` installs each method with its (de)serializers, so wrapping it is the one place where every
// message's serialized size is known without serializing twice.

const SIZE = Symbol('gatehouse.messageBytes');
type Sized = { [SIZE]?: number };

/** Serialized size in bytes of a message decoded or encoded on a server set up with {@link recordMessageSizes}. */
export function messageSize(message: unknown): number | undefined {
  return typeof message === 'object' && message !== null ? (message as Sized)[SIZE] : undefined;
}

type RegisterArgs = Parameters<Server['register']>;

/**
 * Makes every method registered on `server` from now on note each message's
 * serialized size on the message object (under a symbol: invisible to JSON and
 * encoders). Call right after constructing the server, before `addService`.
 * Frozen or sealed reply objects are left alone (their size is then unknown).
 */
export function recordMessageSizes(server: Server): void {
  const register = server.register.bind(server);
  server.register = ((
    name: RegisterArgs[0],
    handler: RegisterArgs[1],
    serialize: RegisterArgs[2],
    deserialize: RegisterArgs[3],
    type: RegisterArgs[4],
  ) =>
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

// ---------------------------------------------------------------------------------------------------------------
// 5. grpc-js's own status texts.
//
// Why no public API suffices: the statuses grpc-js writes by itself (item 2) carry only a code and an English
// text; the code alone cannot tell "message too large" from "decompressed too large" from "undecodable". These
// are the texts of the pinned version, matched by src/status/ to give such statuses a clear message and reason.

/** Patterns of the texts grpc-js puts in the statuses it writes itself. Captures are noted per entry. */
export const GRPC_JS_STATUS_TEXTS = Object.freeze({
  /** `Received message larger than max (N vs. M)`: [1] message bytes, [2] the limit. */
  receivedTooLarge: /^Received message larger than max \((\d+) vs\.? (\d+)\)/,
  /** `Received message that decompresses to a size larger than M`. */
  decompressedTooLarge: /^Received message that decompresses to a size larger than/,
  /** `Sent message larger than max (N vs. M)`: [1] reply bytes, [2] the limit. */
  sentTooLarge: /^Sent message larger than max \((\d+) vs\.? (\d+)\)/,
  /** The request did not decode as the method's type. */
  undecodable: /^Error deserializing request/,
  /** A compressed message that would not inflate. */
  badCompression: /^Failed to decompress message/,
  /** A `grpc-timeout` header grpc-js could not read: [1] the value. */
  badTimeout: /^Invalid grpc-timeout value "([\s\S]*)"$/,
  /** An encoding grpc-js does not implement: [1] the encoding. */
  unsupportedEncoding: /^Received message compressed with unsupported encoding "([\s\S]*)"$/,
  /** A second request message on a unary or server-streaming method: [1] the method path. */
  secondRequest: /^Received a second request message for server streaming method ([\s\S]*)$/,
  /** No request message on a unary or server-streaming method: [1] the method path. */
  noRequest: /^Received no request message for server streaming method ([\s\S]*)$/,
  /** A method nobody registered: [1] the path. */
  unknownMethod: /^The server does not implement the method ([\s\S]*)$/,
});

// ---------------------------------------------------------------------------------------------------------------
// 6. The status of a call to an unknown method.
//
// Why no public API suffices: grpc-js answers a call to a method nobody registered before any interceptor exists
// for it, writing "The server does not implement the method <path>" straight onto the HTTP/2 stream through its
// private `_respondWithError`, with no details and the client's path echoed unbounded. Wrapping that one method on
// a server lets the gateway's status mapping word it like every other status.

type RespondWithError = (status: PartialStatus, stream: unknown, channelzSessionInfo?: unknown) => void;

/**
 * Passes the status grpc-js writes for an unknown method on `server` through
 * `normalize`. Returns false, leaving grpc-js's answer alone, when grpc-js no
 * longer has the method (the contract test fails first).
 */
export function wordUnknownMethodStatus(server: Server, normalize: (status: PartialStatus) => PartialStatus): boolean {
  const target = server as unknown as { _respondWithError?: RespondWithError };
  const original = target._respondWithError;
  if (typeof original !== 'function') return false;
  target._respondWithError = function respondWithError(this: unknown, status, stream, channelzSessionInfo) {
    original.call(this, normalize(status), stream, channelzSessionInfo);
  };
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// 7. Node options for the HTTP/2 servers grpc-js creates.
//
// Why no public API suffices: grpc-js builds each `http2.Server` from its private `commonServerOptions` inside its
// private `createHttp2Server` (item 3) and has no channel option for Node's `maxHeaderListPairs` or for the
// SETTINGS_MAX_HEADER_LIST_SIZE it advertises. Without them Node's defaults (128 pairs, 64 KiB) answer a metadata
// flood with an HTTP/2 reset before the gateway's metadata limits can refuse it with a status. So the options are
// merged into `commonServerOptions` just before each server is made.

/** Node options for the HTTP/2 servers grpc-js creates, beyond those grpc-js sets itself. */
export type Http2ServerOptionsPatch = Pick<SecureServerOptions, 'maxHeaderListPairs'> & {
  /** HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE advertised to clients, in bytes. Omitted: Node's default. */
  maxHeaderListSize?: number;
};

type CreateHttp2Server = (credentials: ServerCredentials) => Http2Server | Http2SecureServer;

/**
 * Adds `options` to every HTTP/2 server grpc-js creates for `server` from now
 * on, then hands each server to `configure` (which should use Node's public
 * events only). Call before `bindAsync`. Returns false, changing nothing, when
 * grpc-js no longer has these members (the contract test fails first).
 */
export function configureHttp2Servers(
  server: Server,
  options: Http2ServerOptionsPatch,
  configure: (http2Server: Http2Server | Http2SecureServer) => void,
): boolean {
  const target = server as unknown as { createHttp2Server?: CreateHttp2Server; commonServerOptions?: Record<string, unknown> };
  const original = target.createHttp2Server;
  if (typeof original !== 'function' || typeof target.commonServerOptions !== 'object' || target.commonServerOptions === null) return false;
  const { maxHeaderListSize, ...serverOptions } = options;
  target.createHttp2Server = function createHttp2Server(this: typeof target, credentials) {
    const common = this.commonServerOptions ?? {};
    const settings = { ...(common.settings as object | undefined), ...(maxHeaderListSize === undefined ? {} : { maxHeaderListSize }) };
    this.commonServerOptions = { ...common, ...serverOptions, settings };
    const http2Server = original.call(this, credentials);
    configure(http2Server);
    return http2Server;
  };
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// 8. A check on every request's bytes before they are decoded.
//
// Not an internal: this relies only on the documented `Server.addService(definition, implementation)` and the
// public `requestDeserialize` of each method definition. It lives here because it replaces a method on a grpc-js
// object, and because it must also reach services registered by libraries (health's `addToServer`, reflection),
// which call `addService` themselves: wrapping each definition by hand would miss them. A check that throws makes
// grpc-js end the call as undecodable (its text is GRPC_JS_STATUS_TEXTS.undecodable) before any handler runs.

/** Checks a request's serialized bytes before they are decoded; throws to refuse them. */
export type RequestBytesCheck = (bytes: Buffer) => void;

/**
 * Makes every service added to `server` from now on run `checkFor(path)`'s
 * check on each request's bytes before its deserializer. `checkFor` is called
 * once per method when the service is added (never per call) and returns
 * undefined to leave a method alone. Call before `addService`.
 */
export function checkRequestBytes(server: Server, checkFor: (methodPath: string) => RequestBytesCheck | undefined): void {
  const addService = server.addService.bind(server);
  server.addService = (definition, implementation) => {
    const checked: Record<string, unknown> = {};
    for (const [name, method] of Object.entries(definition)) {
      const check = checkFor(method.path);
      const deserialize = method.requestDeserialize;
      checked[name] =
        check === undefined
          ? method
          : {
              ...method,
              requestDeserialize: (bytes: Buffer) => {
                check(bytes);
                return deserialize(bytes);
              },
            };
    }
    addService(checked as typeof definition, implementation);
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 9. The HTTP/2 stream, and so the connection, a call came on.
//
// Why no public API suffices: what is the same for every call of one connection (the client certificate's
// identity, the token a client sends again and again) is worth working out once per connection, and what the
// HTTP/2 layer already measured about a request (its raw header list) is worth passing to the chain instead of
// measuring again; but a server call exposes neither its stream nor its connection. `getAuthContext()` walks to
// the TLS socket through Node's HTTP/2 socket proxy on every call (about 3 us per call, measured with
// bench/external), and `getConnectionInfo()` gives an address and port, which a later connection can reuse.
// grpc-js's base call keeps its `ServerHttp2Stream` in the field `stream`; the stream's public `session` is the
// connection, an object that lives exactly as long.

/** The HTTP/2 stream `call` arrived on; undefined for anything that is not grpc-js's base call as this version knows it. */
export function http2StreamOf(call: ServerInterceptingCallInterface): ServerHttp2Stream | undefined {
  const stream = (call as unknown as { stream?: unknown }).stream;
  return typeof stream === 'object' && stream !== null && 'session' in stream ? (stream as ServerHttp2Stream) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// 10. TLS settings of server credentials, for a listener grpc-js does not own.
//
// Why no public API suffices: ServerCredentials hides its certificate, key, CA and client-certificate policy, and
// the certificate-provider credentials deliver reloads only to grpc-js's own listeners. The web listener
// (src/web/) must present the same certificate and verify clients against the same CA, reloads included; grpc-js
// itself reads these through `_getConstructorOptions`, `_getSecureContextOptions` and `_addWatcher`.

/** Node TLS options of server credentials, and their updates (certificate reloads). */
export interface CredentialsTls {
  /** requestCert, rejectUnauthorized, ciphers: fixed for the credentials' lifetime. */
  readonly serverOptions: Record<string, unknown>;
  /** Calls `listener` with the current cert, key and CA (in a microtask when not yet known) and after every reload. Returns the unsubscribe. */
  watch(listener: (contextOptions: Record<string, unknown>) => void): () => void;
}

/** The TLS of secure credentials; undefined for insecure ones or when grpc-js changed (the contract test fails first). */
export function credentialsTls(credentials: ServerCredentials): CredentialsTls | undefined {
  const target = credentials as unknown as {
    _isSecure?: () => boolean;
    _getConstructorOptions?: () => Record<string, unknown> | undefined;
    _getSecureContextOptions?: () => Record<string, unknown> | null;
    _addWatcher?: (watcher: (options: Record<string, unknown> | null) => void) => void;
    _removeWatcher?: (watcher: (options: Record<string, unknown> | null) => void) => void;
  };
  if (
    typeof target._isSecure !== 'function' ||
    typeof target._addWatcher !== 'function' ||
    typeof target._removeWatcher !== 'function' ||
    typeof target._getSecureContextOptions !== 'function' ||
    typeof target._getConstructorOptions !== 'function'
  )
    return undefined;
  if (!target._isSecure()) return undefined;
  return {
    serverOptions: { ...target._getConstructorOptions() },
    watch(listener) {
      const watcher = (options: Record<string, unknown> | null) => {
        if (options) listener(options);
      };
      target._addWatcher!(watcher);
      const current = target._getSecureContextOptions!();
      if (current) queueMicrotask(() => listener(current));
      return () => target._removeWatcher!(watcher);
    },
  };
}
