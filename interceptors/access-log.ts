import { performance } from 'node:perf_hooks';
import type { GatewayCall, Step } from './gateway-call.js';
import { CODE_NAMES } from './method-names.js';
import type { PeerCache } from './peer-cache.js';

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
}

/**
 * Level per code as go-grpc-middleware's logging `DefaultServerCodeToLevel`:
 * client-caused outcomes at info, server trouble the client can work around at
 * warn, bugs and data loss at error. One difference: CANCELLED is debug, since
 * a client that resets streams (rapid reset) must not be able to flood the log.
 */
export const DEFAULT_CODE_LEVELS: Readonly<Record<string, AccessLogLevel>> = Object.freeze({
  OK: 'info', CANCELLED: 'debug', INVALID_ARGUMENT: 'info', NOT_FOUND: 'info', ALREADY_EXISTS: 'info', UNAUTHENTICATED: 'info',
  DEADLINE_EXCEEDED: 'warn', PERMISSION_DENIED: 'warn', RESOURCE_EXHAUSTED: 'warn', FAILED_PRECONDITION: 'warn',
  ABORTED: 'warn', OUT_OF_RANGE: 'warn', UNAVAILABLE: 'warn',
  UNKNOWN: 'error', UNIMPLEMENTED: 'error', INTERNAL: 'error', DATA_LOSS: 'error',
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
 * Off the request path: at the end of a call the step only queues it; the
 * lines are built and handed to the sink in one batch on the next turn of the
 * event loop (`setImmediate`), after the reply has been written.
 */
export function createAccessLogStep(options: AccessLogOptions): Step {
  const sink = options.sink;
  const peers = options.peers;
  const bytes = options.messageBytes ?? false;
  const levelByCode: readonly AccessLogLevel[] = CODE_NAMES.map((name) => options.codeLevels?.[name] ?? DEFAULT_CODE_LEVELS[name] ?? 'info');
  const enabledByCode: readonly boolean[] = levelByCode.map((level) => level !== 'off' && sink.enabled(level));
  // Nothing would ever be written: the step acts on no method.
  if (!enabledByCode.includes(true)) return { name: 'accessLog', forMethod: () => undefined };

  let queue: GatewayCall[] = [];
  const flush = () => {
    const calls = queue;
    queue = [];
    for (const call of calls) write(call);
  };
  const write = (call: GatewayCall) => {
    const code = call.code < CODE_NAMES.length ? call.code : 2;
    const connection = call.getConnectionInfo();
    const fields: Record<string, unknown> = {
      method: call.method.path,
      code: CODE_NAMES[code],
      durationMs: Math.round((call.endedAtMs - call.startMs) * 1000) / 1000,
      peerAddress: connection.remoteAddress === undefined ? undefined : `${connection.remoteAddress}:${connection.remotePort}`,
      peer: call.peer?.identity ?? call.loggedPeer?.identity,
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
      call.endedAtMs = performance.now();
      // Authentication names the peer; calls exempt from it or refused before it are named here, while the
      // connection is certainly still there (the certificate object is cached per connection, so this is a lookup).
      if (call.peer === undefined && peers !== undefined) call.loggedPeer = peers.identityOf(call);
      if (queue.length === 0) setImmediate(flush);
      queue.push(call);
    },
  };
  return { name: 'accessLog', forMethod: () => hooks };
}
