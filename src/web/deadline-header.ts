import type { WebRequest } from './read-body.js';

/** Thrown for a `timeout` header that is not a duration. */
export class TimeoutHeaderError extends Error {
  override readonly name = 'TimeoutHeaderError';
}

const UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The call's deadline as a `grpc-timeout` value: a `grpc-timeout` header as
 * sent (the chain checks and clamps it like any gRPC client's), else a
 * `timeout` header in friendlier units (`1500ms`, `2.5s`, `1m`, `1h`, or bare
 * seconds), else none (the chain's default deadline applies).
 */
export function grpcTimeoutOf(req: WebRequest): string | undefined {
  const grpcTimeout = req.headers['grpc-timeout'];
  if (typeof grpcTimeout === 'string') return grpcTimeout;
  const timeout = req.headers.timeout;
  if (typeof timeout !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(timeout);
  if (match === null) throw new TimeoutHeaderError(`"${timeout.slice(0, 40)}" is not a duration such as 1500ms, 2.5s or 1m`);
  const ms = Math.ceil(Number(match[1]) * UNITS_MS[match[2] ?? 's']!);
  // grpc-timeout takes at most 8 digits: milliseconds up to ~27 hours, then whole minutes (the chain clamps to its maximum).
  return ms <= 99_999_999 ? `${ms}m` : `${Math.min(99_999_999, Math.ceil(ms / 60_000))}M`;
}
