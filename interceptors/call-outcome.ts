import { Metadata, status as Status, type ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { callStateOf, peekCallState } from './call-state.js';
import type { PartialStatus } from './forwarding-call.js';

/** Options for {@link createCallOutcomeInterceptor}. */
export interface CallOutcomeOptions {
  /**
   * Rewrites every non-OK status just before it is written, with the call's
   * request metadata (the call state) when grpc-js has it. The server passes
   * its one status mapping (src/status/), which gives statuses grpc-js makes
   * by itself (its deadline, "Received message larger than max", undecodable
   * requests) a clear message and rich details, and bounds every message: a
   * `grpc-message` near 64 KB poisons the HTTP/2 connection. Default: unchanged.
   */
  normalize?: (status: PartialStatus, requestMetadata?: Metadata) => PartialStatus;
}

/** What grpc-js's own call object looks like from here; `metadata` is the request metadata it hands to listeners. */
interface BaseCall {
  metadata?: unknown;
  sendStatus(status: PartialStatus): void;
}

/**
 * Must be the first interceptor of the chain (closest to the wire). When grpc-js
 * ends a call by itself it calls `sendStatus` on its own call object, so no
 * interceptor sees that status: a deadline it enforces, an oversized or
 * undecodable request. This layer replaces that object's `sendStatus` with one
 * that records every status actually written on the call state
 * (`wireStatus`) and can rewrite grpc-js's terse messages, so metrics, logs and
 * spans report the code the client got, exactly once.
 *
 * It relies on a grpc-js internal (the base call invokes `this.sendStatus`
 * and keeps the request metadata in `this.metadata`); when the call it gets
 * does not look like that, it stays out of the way and
 * {@link resolveOutcomeCode}'s inference applies. The Prometheus integration
 * test counts a ResourceExhausted call, so a grpc-js upgrade that breaks this
 * fails a test rather than the numbers.
 */
export function createCallOutcomeInterceptor(options: CallOutcomeOptions = {}): ServerInterceptor {
  const normalize = options.normalize;
  let baseProto: object | null | undefined;
  let original: ((status: PartialStatus) => void) | undefined;

  // One shared function, not a closure per call: the per-call cost is one property write.
  function recordingSendStatus(this: BaseCall, status: PartialStatus): void {
    const requestMetadata = this.metadata instanceof Metadata ? this.metadata : undefined;
    const written = normalize && status.code !== Status.OK ? normalize(status, requestMetadata) : status;
    if (requestMetadata) {
      const state = callStateOf(requestMetadata);
      state.wireStatus ??= { code: written.code, details: written.details ?? '' };
    }
    original!.call(this, written);
  }

  return (_method, call) => {
    const proto = Object.getPrototypeOf(call) as { sendStatus?: unknown; constructor?: { name?: string } } | null;
    if (baseProto === undefined) {
      // Learn grpc-js's base call class from the first call; anything else (an extra interceptor in front) is left alone.
      const looksRight = proto?.constructor?.name === 'BaseServerInterceptingCall' && typeof proto.sendStatus === 'function'
        && (call as unknown as BaseCall).metadata instanceof Metadata;
      baseProto = looksRight ? proto : null;
      if (looksRight) original = proto.sendStatus as (status: PartialStatus) => void;
    }
    if (proto === baseProto && baseProto !== null) (call as unknown as BaseCall).sendStatus = recordingSendStatus;
    return call as ServerInterceptingCall;
  };
}

/**
 * How close to its deadline a call must end, without any status, to count as
 * timed out rather than cancelled, in ms. A client that gives up at its
 * deadline resets the stream exactly as one that cancels does, and the
 * server's copy of the deadline (taken when the headers arrived) runs late by
 * the request's travel and queueing time, so the reset often lands a little
 * before it.
 */
export const DEADLINE_TOLERANCE_MS = 100;

/**
 * The code a call ended with, for layers that finish their work in `onCancel`
 * (which fires at the end of every call): what grpc-js wrote when the outcome
 * layer saw it, else what this layer saw pass through `sendStatus`, else — the
 * call ended without any status — DEADLINE_EXCEEDED when its deadline has
 * passed or is within {@link DEADLINE_TOLERANCE_MS}, CANCELLED otherwise (the
 * client went away).
 *
 * @param seenCode the code this layer's `sendStatus` saw, or -1.
 * @param deadlineMs the call's deadline, epoch ms; Infinity when none.
 */
export function resolveOutcomeCode(metadata: Metadata | undefined, seenCode: number, deadlineMs: number, nowMs: number): number {
  const wire = metadata === undefined ? undefined : peekCallState(metadata)?.wireStatus;
  if (wire !== undefined) return wire.code;
  if (seenCode >= 0) return seenCode;
  return nowMs >= deadlineMs - DEADLINE_TOLERANCE_MS ? Status.DEADLINE_EXCEEDED : Status.CANCELLED;
}

/** The effective deadline of a call: the deadline layer's when set, else the client's. Epoch ms, Infinity when none. */
export function effectiveDeadlineMs(metadata: Metadata | undefined, clientDeadline: Date | number): number {
  const own = metadata === undefined ? undefined : peekCallState(metadata)?.deadline;
  if (own !== undefined) return own.getTime();
  return clientDeadline instanceof Date ? clientDeadline.getTime() : clientDeadline;
}
