import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { REASONS } from '../../src/status/reasons.js';
import { createStatusDetailsCodec, STATUS_DETAILS_KEY, type DecodedStatus } from '../../src/status/status-details.js';

const codec = createStatusDetailsCodec();

/** Codes a client library also makes by itself (its own deadline, a connection it could not make), without details. */
const CLIENT_SIDE_CODES: ReadonlySet<number> = new Set([Status.DEADLINE_EXCEEDED, Status.UNAVAILABLE, Status.CANCELLED]);

/**
 * Awaits a call that must fail and checks what the client sees: the code by
 * name, and the message against a pattern. Every status from the gateway must
 * carry rich details whose `ErrorInfo.reason` is in the catalogue
 * (src/status/reasons.ts) with this code; only codes a client library makes
 * by itself may come without. Returns the error and its decoded rich details
 * for further checks.
 */
export async function assertRejects(
  call: Promise<unknown>,
  code: keyof typeof Status,
  message?: RegExp,
): Promise<{ error: grpc.ServiceError; details?: DecodedStatus }> {
  let error: grpc.ServiceError | undefined;
  try {
    await call;
  } catch (caught) {
    error = caught as grpc.ServiceError;
  }
  assert.ok(error, `expected ${code}, but the call succeeded`);
  assert.equal(Status[error.code], code, `expected ${code}, got ${Status[error.code]}: ${error.details}`);
  if (message) assert.match(error.details, message);
  // A stack frame names a source file with line and column (`at fn (file.ts:12:5)`); a time such as 10:00:00Z is not one.
  assert.doesNotMatch(error.details, /\bat (?:.+ \()?[^\s()]+\.[cm]?[jt]sx?:\d+:\d+\)?/, 'a stack trace leaked into the reply');
  const raw = error.metadata?.get(STATUS_DETAILS_KEY)[0];
  const details = raw ? codec.decode(Buffer.isBuffer(raw) ? raw : Buffer.from(raw)) : undefined;
  if (!details) {
    assert.ok(CLIENT_SIDE_CODES.has(error.code), `${code} came without grpc-status-details-bin: ${error.details}`);
  } else {
    const reason = details.errorInfo?.reason ?? '(none)';
    const entry = (REASONS as Readonly<Record<string, { code: number }>>)[reason];
    assert.ok(entry, `reason ${reason} is not in the catalogue (src/status/reasons.ts)`);
    assert.equal(Status[entry.code], code, `the catalogue gives ${reason} the code ${Status[entry.code]}`);
    assert.equal(details.code, error.code, 'google.rpc.Status.code differs from grpc-status');
  }
  return { error, details };
}
