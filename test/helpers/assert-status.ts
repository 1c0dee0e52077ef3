import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createStatusDetailsCodec, STATUS_DETAILS_KEY, type DecodedStatus } from '../../src/status/status-details.js';

const codec = createStatusDetailsCodec();

/**
 * Awaits a call that must fail and checks what the client sees: the code by
 * name, and the message against a pattern. Returns the error and its decoded
 * rich details for further checks.
 */
export async function assertRejects(call: Promise<unknown>, code: keyof typeof Status, message?: RegExp): Promise<{ error: grpc.ServiceError; details?: DecodedStatus }> {
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
  return { error, details: raw ? codec.decode(Buffer.isBuffer(raw) ? raw : Buffer.from(raw)) : undefined };
}
