import * as grpc from '@grpc/grpc-js';
import type { Logger, LogLevel } from './logger.js';

/**
 * Sends grpc-js's own log lines through `logger`, so they are JSON lines and
 * are redacted like every other line. grpc-js writes client-supplied text
 * itself, metadata values included ("Failed to add metadata entry
 * authorization: Bearer ..." when a value cannot be stored), and by default
 * straight to stderr, past any redaction.
 *
 * grpc-js keeps one logger per process: the last call wins. Its ERROR lines
 * on a server are nearly all about what a peer sent, so they are written at
 * warn: a client must not be able to fill an error-level alert.
 */
export function routeGrpcJsLogs(logger: Logger, level: LogLevel): void {
  const line =
    (write: (message: string, fields: Record<string, unknown>) => void) =>
    (...args: unknown[]) =>
      write(`grpc-js: ${args.map(String).join(' ')}`, { component: 'grpc-js' });
  grpc.setLogger({ error: line(logger.warn), info: line(logger.info), debug: line(logger.debug) });
  grpc.setLogVerbosity(
    level === 'debug'
      ? grpc.logVerbosity.DEBUG
      : level === 'info'
        ? grpc.logVerbosity.INFO
        : level === 'silent'
          ? grpc.logVerbosity.NONE
          : grpc.logVerbosity.ERROR,
  );
}
