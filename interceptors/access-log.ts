import type { Metadata, ServerInterceptor } from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { peekCallState } from './call-state.js';
import { effectiveDeadlineMs, resolveOutcomeCode } from './call-outcome.js';
import { ForwardingCall, type PartialStatus } from './forwarding-call.js';
import { messageSize } from './message-sizes.js';
import { peerIdentityFromCertificate } from './peer-identity.js';
import { CODE_NAMES } from './method-names.js';

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
  /** Whether a line at this level would be written; lets the layer skip building it. */
  enabled(level: 'debug' | 'info' | 'warn' | 'error'): boolean;
}

/**
 * Level per code as go-grpc-middleware's logging `DefaultServerCodeToLevel`:
 * client-caused outcomes at info, server trouble the client can work around at
 * warn, bugs and data loss at error.
 */
export const DEFAULT_CODE_LEVELS: Readonly<Record<string, AccessLogLevel>> = Object.freeze({
  OK: 'info', CANCELLED: 'info', INVALID_ARGUMENT: 'info', NOT_FOUND: 'info', ALREADY_EXISTS: 'info', UNAUTHENTICATED: 'info',
  DEADLINE_EXCEEDED: 'warn', PERMISSION_DENIED: 'warn', RESOURCE_EXHAUSTED: 'warn', FAILED_PRECONDITION: 'warn',
  ABORTED: 'warn', OUT_OF_RANGE: 'warn', UNAVAILABLE: 'warn',
  UNKNOWN: 'error', UNIMPLEMENTED: 'error', INTERNAL: 'error', DATA_LOSS: 'error',
});

/** Options for {@link createAccessLogInterceptor}. */
export interface AccessLogOptions {
  /** The logger; its own level still applies after the per-code level. */
  sink: AccessLogSink;
  /** Overrides of {@link DEFAULT_CODE_LEVELS}, by canonical code name (`OK`, `DEADLINE_EXCEEDED`, ...). */
  codeLevels?: Readonly<Partial<Record<string, AccessLogLevel>>>;
  /** The server records message sizes (interceptors/message-sizes.ts `recordMessageSizes`): log bytes in and out. Default false. */
  messageBytes?: boolean;
  /** Monotonic clock in ms, for durations. Default `performance.now`. */
  nowMs?: () => number;
  /** Wall clock in epoch ms, to tell a timed-out call from a cancelled one. Default `Date.now`. */
  wallClockMs?: () => number;
}

/** The message of every access line, so log queries can pick them out. */
export const ACCESS_LOG_MESSAGE = 'grpc call';

/**
 * Writes one structured line per call when it ends: method, code, duration,
 * peer address and certificate identity, token subject, messages and bytes
 * each way, trace id; for a call that failed with a bug, the private cause
 * under the reference id the client was given. Request metadata is never
 * logged, so tokens cannot leak through here.
 */
export function createAccessLogInterceptor(options: AccessLogOptions): ServerInterceptor {
  const sink = options.sink;
  const bytes = options.messageBytes ?? false;
  const now = options.nowMs ?? (() => performance.now());
  const wallClock = options.wallClockMs ?? Date.now;
  const levelByCode: readonly AccessLogLevel[] = CODE_NAMES.map((name) => options.codeLevels?.[name] ?? DEFAULT_CODE_LEVELS[name] ?? 'info');
  const enabledByCode: readonly boolean[] = levelByCode.map((level) => level !== 'off' && sink.enabled(level));
  // Nothing would ever be written: the layer is not installed at all.
  if (!enabledByCode.includes(true)) return (_method, call) => call as ReturnType<ServerInterceptor>;

  class AccessLogCall extends ForwardingCall {
    private startMs = -1;
    private metadata: Metadata | undefined;
    private seenCode = -1;
    private seenDetails: string | undefined;
    private messagesIn = 0;
    private messagesOut = 0;
    private bytesIn = 0;
    private bytesOut = 0;

    constructor(next: ConstructorParameters<typeof ForwardingCall>[0], private readonly path: string) {
      super(next);
    }

    override onReceiveMetadata(metadata: Metadata): void {
      this.startMs = now();
      this.metadata = metadata;
      this.listener.onReceiveMetadata(metadata);
    }
    override onReceiveMessage(message: unknown): void {
      this.messagesIn++;
      if (bytes) this.bytesIn += messageSize(message) ?? 0;
      this.listener.onReceiveMessage(message);
    }
    override sendMessage(message: unknown, callback: () => void): void {
      this.messagesOut++;
      this.next.sendMessage(message, callback);
      // grpc-js serializes synchronously inside sendMessage, so the size is known by now.
      if (bytes) this.bytesOut += messageSize(message) ?? 0;
    }
    override sendStatus(status: PartialStatus): void {
      if (this.seenCode < 0) {
        this.seenCode = status.code;
        this.seenDetails = status.details;
      }
      this.next.sendStatus(status);
    }
    override onCancel(): void {
      if (this.startMs >= 0) {
        const metadata = this.metadata;
        const code = resolveOutcomeCode(metadata, this.seenCode, effectiveDeadlineMs(metadata, this.next.getDeadline()), wallClock());
        const index = code < CODE_NAMES.length ? code : 2;
        if (enabledByCode[index]) this.write(metadata, index);
        this.startMs = -1;
      }
      this.listener.onCancel();
    }

    private write(metadata: Metadata | undefined, code: number): void {
      const state = metadata === undefined ? undefined : peekCallState(metadata);
      const connection = this.next.getConnectionInfo();
      const fields: Record<string, unknown> = {
        method: this.path,
        code: CODE_NAMES[code],
        durationMs: Math.round((now() - this.startMs) * 1000) / 1000,
        peerAddress: connection.remoteAddress === undefined ? undefined : `${connection.remoteAddress}:${connection.remotePort}`,
        // Authentication sets the peer; calls refused before it (or exempt from it) are named from the certificate here.
        peer: state?.peer?.identity ?? peerIdentityFromCertificate(this.next.getAuthContext().sslPeerCertificate)?.identity,
        subject: state?.principal?.subject,
        messagesIn: this.messagesIn,
        messagesOut: this.messagesOut,
        bytesIn: bytes ? this.bytesIn : undefined,
        bytesOut: bytes ? this.bytesOut : undefined,
        traceId: state?.traceId,
      };
      if (code !== 0) fields.details = state?.wireStatus?.details ?? this.seenDetails;
      if (state?.internalError !== undefined) {
        fields.referenceId = state.internalError.referenceId;
        fields.error = state.internalError.cause;
      }
      const level = levelByCode[code]!;
      if (level !== 'off') sink[level](ACCESS_LOG_MESSAGE, fields);
    }
  }

  return (method, call) => new AccessLogCall(call, method.path).asInterceptingCall();
}
