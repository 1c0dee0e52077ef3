import { performance } from 'node:perf_hooks';
import type { GatewayCall, Step } from './gateway-call.js';
import { CODE_NAMES } from './method-names.js';
import type { PeerCache } from './peer-cache.js';
import type { PeerIdentity } from './peer-identity.js';

/** Levels an access line can be written at; `off` writes nothing for that code. */
export type AccessLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

/**
 * Where lines go: structurally the server's JSON logger (src/logging/logger.ts),
 * which redacts secrets by key; interceptors/ does not import src/.
 */
export interface AccessLogSink {
  debug(message: string, fields: Record<string, unknown>): void;
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
  /** Whether a line at this level would be written; lets the step skip building it. */
  enabled(level: 'debug' | 'info' | 'warn' | 'error'): boolean;
  /**
   * Optional fast path: writes a line whose fields are already JSON (the inside
   * of an object). With {@link AccessLogSink.jsonString} it lets the step
   * serialise the common line itself, with every outside string redacted and
   * bounded by the sink.
   */
  writeJson?(level: 'debug' | 'info' | 'warn' | 'error', message: string, fieldsJson: string): void;
  /** A string as the sink would write it as a field value (redacted, bounded), as a JSON literal. */
  jsonString?(value: string): string;
}

/**
 * Level per code as go-grpc-middleware's logging `DefaultServerCodeToLevel`:
 * client-caused outcomes at info, server trouble the client can work around at
 * warn, bugs and data loss at error. One difference: CANCELLED is debug, since
 * a client that resets streams (rapid reset) must not be able to flood the log.
 */
export const DEFAULT_CODE_LEVELS: Readonly<Record<string, AccessLogLevel>> = Object.freeze({
  OK: 'info',
  CANCELLED: 'debug',
  INVALID_ARGUMENT: 'info',
  NOT_FOUND: 'info',
  ALREADY_EXISTS: 'info',
  UNAUTHENTICATED: 'info',
  DEADLINE_EXCEEDED: 'warn',
  PERMISSION_DENIED: 'warn',
  RESOURCE_EXHAUSTED: 'warn',
  FAILED_PRECONDITION: 'warn',
  ABORTED: 'warn',
  OUT_OF_RANGE: 'warn',
  UNAVAILABLE: 'warn',
  UNKNOWN: 'error',
  UNIMPLEMENTED: 'error',
  INTERNAL: 'error',
  DATA_LOSS: 'error',
});

/** Options for {@link createAccessLogStep}. */
export interface AccessLogOptions {
  /** The logger; its own level still applies after the per-code level. */
  sink: AccessLogSink;
  /** Overrides of {@link DEFAULT_CODE_LEVELS}, by canonical code name (`OK`, `DEADLINE_EXCEEDED`, ...). */
  codeLevels?: Readonly<Partial<Record<string, AccessLogLevel>>>;
  /** Names calls that no authentication step named (exempt or refused before it) from their certificate. Default: no identity for those. */
  peers?: PeerCache;
  /** The server records message sizes (grpc-compat's `recordMessageSizes`) and the gateway counts them: log bytes in and out. Default false. */
  messageBytes?: boolean;
}

/** The message of every access line, so log queries can pick them out. */
export const ACCESS_LOG_MESSAGE = 'grpc call';

/**
 * Writes one structured line per call when it ends: method, code, duration,
 * peer address and certificate identity, token subject, messages and bytes
 * each way, trace id; for a call that failed with a bug, the private cause
 * under the reference id the client was given. Request metadata is never
 * logged, so tokens cannot leak through here.
 *
 * The line is built when the call is over (grpc-js's `onCancel`, after the
 * status went out) and handed to the sink, which writes lines in batches
 * (src/logging/batched-stdout.ts). Building it then, rather than queueing the
 * call for later, lets the call's objects go as soon as it ends, which the
 * garbage collector measurably prefers under load.
 */
export function createAccessLogStep(options: AccessLogOptions): Step {
  const sink = options.sink;
  const peers = options.peers;
  const bytes = options.messageBytes ?? false;
  const levelByCode: readonly AccessLogLevel[] = CODE_NAMES.map((name) => options.codeLevels?.[name] ?? DEFAULT_CODE_LEVELS[name] ?? 'info');
  const enabledByCode: readonly boolean[] = levelByCode.map((level) => level !== 'off' && sink.enabled(level));
  // Nothing would ever be written: the step acts on no method.
  if (!enabledByCode.includes(true)) return { name: 'accessLog', forMethod: () => undefined };

  const fast = sink.writeJson !== undefined && sink.jsonString !== undefined ? okLineWriter(sink, levelByCode[0]!, bytes) : undefined;
  const write = (call: GatewayCall, durationMs: number, peer: PeerIdentity | undefined) => {
    const code = call.code < CODE_NAMES.length ? call.code : 2;
    const connection = call.getConnectionInfo();
    const fields: Record<string, unknown> = {
      method: call.method.path,
      code: CODE_NAMES[code],
      durationMs,
      peerAddress: connection.remoteAddress === undefined ? undefined : `${connection.remoteAddress}:${connection.remotePort}`,
      peer: peer?.identity,
      subject: call.principal?.subject,
      messagesIn: call.messagesIn,
      messagesOut: call.messagesOut,
      bytesIn: bytes ? call.bytesIn : undefined,
      bytesOut: bytes ? call.bytesOut : undefined,
      traceId: call.traceId,
    };
    if (code !== 0) fields.details = call.details;
    if (call.upstream !== undefined) fields.upstream = call.upstream;
    if (call.internalError !== undefined) {
      fields.referenceId = call.internalError.referenceId;
      fields.error = call.internalError.cause;
    }
    const level = levelByCode[code]!;
    if (level !== 'off') sink[level](ACCESS_LOG_MESSAGE, fields);
  };
  const hooks = {
    end(call: GatewayCall): void {
      const code = call.code < CODE_NAMES.length ? call.code : 2;
      if (!enabledByCode[code]) return;
      const durationMs = Math.round((performance.now() - call.startMs) * 1000) / 1000;
      // Authentication names the peer; calls exempt from it or refused before it are named here from the
      // certificate (looked up once per connection).
      const peer = call.peer ?? peers?.identityOf(call);
      if (fast !== undefined && code === 0 && call.internalError === undefined) fast(call, durationMs, peer);
      else write(call, durationMs, peer);
    },
  };
  return { name: 'accessLog', forMethod: () => hooks };
}

/**
 * The line of an OK call, serialised by hand in the same shape the sink's
 * generic path writes (`method`, `code`, `durationMs`, ...; absent values
 * left out): it is written for almost every call, and building an object for
 * the sink to check and stringify cost several microseconds per call. The
 * pieces that repeat (method, certificate identity, token subject) are turned
 * into JSON once per object; the sink redacts and bounds each of them.
 */
function okLineWriter(
  sink: AccessLogSink,
  level: AccessLogLevel,
  bytes: boolean,
): ((call: GatewayCall, durationMs: number, peer: PeerIdentity | undefined) => void) | undefined {
  if (level === 'off') return undefined;
  const writeJson = sink.writeJson!.bind(sink);
  const jsonString = sink.jsonString!.bind(sink);
  // `"name":"value"` per object: each kind of object (method, peer, principal) always gives the same field.
  const fragments = new WeakMap<object, string>();
  const fragment = (key: object, name: string, value: string): string => {
    let json = fragments.get(key);
    if (json === undefined) {
      json = `"${name}":${jsonString(value)}`;
      fragments.set(key, json);
    }
    return json;
  };
  return (call, durationMs, peer) => {
    const connection = call.getConnectionInfo();
    let json = `${fragment(call.method, 'method', call.method.path)},"code":"OK","durationMs":${durationMs}`;
    // An address from the socket: digits, dots, hex and colons, nothing to escape.
    if (connection.remoteAddress !== undefined) json += `,"peerAddress":"${connection.remoteAddress}:${connection.remotePort}"`;
    if (peer !== undefined) json += `,${fragment(peer, 'peer', peer.identity)}`;
    if (call.principal !== undefined) json += `,${fragment(call.principal, 'subject', call.principal.subject)}`;
    json += `,"messagesIn":${call.messagesIn},"messagesOut":${call.messagesOut}`;
    if (bytes) json += `,"bytesIn":${call.bytesIn},"bytesOut":${call.bytesOut}`;
    // Lowercase hex from the traceparent check or the SDK's span context.
    if (call.traceId !== undefined) json += `,"traceId":"${call.traceId}"`;
    // The upstream's name comes from config, but goes through the sink like any other text.
    if (call.upstream !== undefined) json += `,"upstream":${jsonString(call.upstream)}`;
    writeJson(level, ACCESS_LOG_MESSAGE, json);
  };
}
