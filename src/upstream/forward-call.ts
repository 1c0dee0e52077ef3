import * as grpc from '@grpc/grpc-js';
import type { OutgoingHttpHeaders } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { gunzipSync, inflateSync } from 'node:zlib';
import { peekCallState } from '../../interceptors/call-state.js';
import { deadlineMs } from '../../interceptors/grpc-compat.js';
import { GatehouseError } from '../errors.js';
import { startExchange, type GrpcExchange, type GrpcOutcome } from '../grpc-wire/exchange.js';
import { encodeFrame, FrameReader, type GrpcFrame } from '../grpc-wire/frames.js';
import { markPassedThrough } from '../status/passed-through.js';
import { clientResponseMetadata, traceparentOf, upstreamRequestHeaders } from './forward-metadata.js';
import { RequestRelay } from './request-relay.js';
import type { RetryBudget } from './retry-budget.js';
import type { UpstreamCluster } from './upstream-cluster.js';
import { errorStatus, localStatus } from './upstream-status.js';

/** Per-upstream series of one route's calls, children prepared at start. */
export interface ForwardCounters {
  /** Attempts by final code, indexed by code. */
  readonly calls: readonly { inc(): void }[];
  readonly failures: { inc(): void };
  readonly retries: { inc(): void };
  readonly retriesRefused: { inc(): void };
  readonly latency: { observe(seconds: number): void };
}

/** Retries of one method; `maxAttempts` 1 means none. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  /** Request-stream bytes kept for a retry before the call commits to its attempt (request-streaming methods). */
  readonly maxReplayBytes: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly budget: RetryBudget;
}

/** Everything one routed method's calls share, prepared at start. */
export interface ForwardTarget {
  /** `/package.Service/Method`, as sent upstream. */
  readonly path: string;
  /** The client sends a stream of messages (client-streaming, bidi). */
  readonly requestStream: boolean;
  /** The upstream replies with a stream of messages (server-streaming, bidi). */
  readonly responseStream: boolean;
  readonly upstream: UpstreamCluster;
  /** Retries for idempotent methods; `maxAttempts: 1` for the rest. */
  readonly retry: RetryPolicy;
  readonly counters: ForwardCounters;
  /** Largest reply message passed to the client (the gateway's own send limit), in bytes. */
  readonly maxReplyBytes: number;
}

/** The client's side of a routed call, whatever its kind: what the forwarder reads from and writes to. */
export interface Downstream {
  /** Request metadata (the chain's call state rides on it). */
  readonly metadata: grpc.Metadata;
  /** The one request of unary and server-streaming calls. */
  readonly request?: Buffer;
  /** The request stream of client-streaming and bidi calls. */
  readonly requests?: NodeJS.ReadableStream & { pause(): unknown; resume(): unknown };
  /** grpc-js's deadline of the call, used when the chain set none. */
  readonly deadline: grpc.Deadline;
  sendHeaders(metadata: grpc.Metadata): void;
  /** Sends one reply message; false asks the sender to wait for {@link onDrain}. */
  send(message: Buffer): boolean;
  onDrain(resume: () => void): void;
  finish(status: grpc.StatusObject): void;
  /** Called when the client cancels (or the chain ends the call: its deadline, the drain). */
  onCancelled(listener: () => void): void;
}

/**
 * Forwards one call to the route's upstream without decoding a byte of it, on
 * the endpoint's raw HTTP/2 connection (frames in, frames out: no grpc-js
 * client, whose resolving, balancing and filter stack cost more per call than
 * the hosted call itself): round robin over healthy endpoints, the caller's
 * metadata without its credential plus the verified identity, the remaining
 * deadline as `grpc-timeout`, the gateway span's `traceparent`. Replies,
 * headers, trailers and status come back as the upstream sent them; both
 * directions respect HTTP/2 flow control (a slow reader pauses the other side
 * instead of filling memory); a client cancel resets the upstream stream.
 * Idempotent methods are retried on UNAVAILABLE before any reply, within
 * the route's budget (a request stream is replayed: request-relay.ts).
 */
export function forward(target: ForwardTarget, down: Downstream): void {
  const state = peekCallState(down.metadata);
  const upstream = target.upstream;
  if (state !== undefined) state.upstream = upstream.name;
  const deadline = state?.deadline?.getTime() ?? deadlineMs(down.deadline);
  const outgoing = upstreamRequestHeaders(down.metadata, state, traceparentOf(state));
  const retry = target.retry;
  const relay = target.requestStream ? new RequestRelay(down.requests!, retry.maxAttempts > 1, retry.maxReplayBytes) : undefined;
  let current: GrpcExchange | undefined;
  let over = false;
  // One resend of a stream the upstream refused unprocessed (GOAWAY, REFUSED_STREAM), as gRPC clients do, for any method.
  let refusedResent = false;
  let retryTimer: NodeJS.Timeout | undefined;
  down.onCancelled(() => {
    over = true;
    clearTimeout(retryTimer);
    current?.cancel();
  });
  if (retry.maxAttempts > 1) retry.budget.onCall();

  const finish = (status: grpc.StatusObject) => {
    if (over) return;
    over = true;
    relay?.commit();
    down.finish(status);
  };

  const attempt = (n: number): void => {
    if (over) return;
    const endpoint = upstream.pick();
    if (endpoint === undefined) {
      finish(
        errorStatus(
          new GatehouseError('UPSTREAM_UNAVAILABLE', `upstream ${upstream.name} has no healthy endpoint (${upstream.whyUnavailable()})`, {
            retryDelayMs: 1000,
            metadata: { upstream: upstream.name },
          }),
        ),
      );
      return;
    }
    const startedAt = performance.now();
    let answered = false;
    // Set when the gateway itself ends the attempt over a reply: RESOURCE_EXHAUSTED (too large) or INTERNAL (unreadable).
    let rejectedReply: grpc.status | undefined;
    let encoding: string | undefined;

    const settle = (outcome: GrpcOutcome): void => {
      current = undefined;
      relay?.detach();
      const code = outcome.code;
      target.counters.latency.observe((performance.now() - startedAt) / 1000);
      target.counters.calls[code]?.inc();
      if (code === grpc.status.UNAVAILABLE) {
        target.counters.failures.inc();
        upstream.report(endpoint, true);
      } else if (outcome.fromServer) {
        upstream.report(endpoint, false);
      }
      const replayable = relay === undefined || relay.replayable;
      if (outcome.refused === true && !refusedResent && !answered && !over && replayable) {
        refusedResent = true;
        target.counters.retries.inc();
        attempt(n);
        return;
      }
      if (code === grpc.status.UNAVAILABLE && !answered && n < retry.maxAttempts && !over && replayable) {
        const backoffMs = Math.min(retry.maxBackoffMs, retry.initialBackoffMs * 2 ** (n - 1)) * (0.5 + Math.random());
        if (Date.now() + backoffMs < deadline) {
          if (retry.budget.tryRetry()) {
            target.counters.retries.inc();
            retryTimer = setTimeout(attempt, backoffMs, n + 1);
            return;
          }
          target.counters.retriesRefused.inc();
        }
      }
      if (outcome.fromServer) {
        finish({ code, details: outcome.message, metadata: markPassedThrough(clientResponseMetadata(outcome.trailers)) });
      } else {
        finish(localStatus(rejectedReply ?? code, upstream.name));
      }
    };

    const remainingMs = deadline - Date.now();
    const session = remainingMs > 0 ? endpoint.connection.session() : undefined;
    if (session === undefined) {
      // No connection to send on (it just failed): nothing reached the upstream, so another endpoint may take it.
      if (remainingMs > 0) settle({ code: grpc.status.UNAVAILABLE, message: '', trailers: {}, fromServer: false, refused: true });
      else settle({ code: grpc.status.DEADLINE_EXCEEDED, message: '', trailers: {}, fromServer: false });
      return;
    }
    const headers: OutgoingHttpHeaders = {
      ...outgoing,
      ':path': target.path,
      ':authority': endpoint.connection.authority,
      ':scheme': endpoint.connection.scheme,
    };
    if (Number.isFinite(remainingMs)) headers['grpc-timeout'] = grpcTimeout(remainingMs);
    const frames = new FrameReader(target.maxReplyBytes);
    let exchange: GrpcExchange;
    try {
      exchange = startExchange(
        session,
        headers,
        {
          onHeaders(received) {
            answered = true;
            relay?.commit();
            const sent = received['grpc-encoding'];
            if (sent !== undefined && sent !== 'identity') encoding = String(sent);
            if (over) return;
            const metadata = clientResponseMetadata(received);
            // A single reply carries headers with it anyway: sent early only when the upstream set some of its own.
            if (target.responseStream || hasEntries(metadata)) down.sendHeaders(metadata);
          },
          onData(chunk) {
            answered = true;
            relay?.commit();
            let replies: GrpcFrame[];
            try {
              replies = frames.push(chunk);
            } catch {
              rejectedReply = grpc.status.RESOURCE_EXHAUSTED;
              exchange.cancel();
              return;
            }
            for (const reply of replies) {
              if (over) return;
              const message = reply.flags & 1 ? decompress(reply.payload, encoding, target.maxReplyBytes) : reply.payload;
              if (message === undefined) {
                rejectedReply = grpc.status.INTERNAL;
                exchange.cancel();
                return;
              }
              if (!down.send(message)) {
                exchange.request.pause();
                down.onDrain(() => exchange.request.resume());
              }
            }
          },
          onEnd: settle,
        },
        LOST,
      );
    } catch {
      // The session closed between picking and sending (node:http2 throws then): nothing reached the upstream.
      settle({ code: grpc.status.UNAVAILABLE, message: '', trailers: {}, fromServer: false, refused: true });
      return;
    }
    current = exchange;
    if (relay === undefined) exchange.request.end(encodeFrame(down.request!));
    else relay.attach(exchange.request);
  };
  attempt(1);
}

/** Whether any header is left for the client once the upstream's transport headers are dropped. */
function hasEntries(metadata: grpc.Metadata): boolean {
  for (const _ in metadata.getMap()) return true;
  return false;
}

/** Streams that end without a status: the connection went away or the upstream reset them. */
const LOST = { lostMessage: '' } as const;

/** The remaining time as `grpc-timeout` (at most 8 digits: milliseconds, or seconds beyond ~27 hours). */
function grpcTimeout(remainingMs: number): string {
  const ms = Math.max(1, Math.ceil(remainingMs));
  return ms < 1e8 ? `${ms}m` : `${Math.min(99_999_999, Math.ceil(ms / 1000))}S`;
}

/**
 * A compressed reply, though the gateway asked for `identity`: gzip and deflate are read (bounded by the reply
 * limit); anything else cannot be passed on and is undefined.
 */
function decompress(payload: Buffer, encoding: string | undefined, maxBytes: number): Buffer | undefined {
  try {
    if (encoding === 'gzip') return gunzipSync(payload, { maxOutputLength: maxBytes });
    if (encoding === 'deflate') return inflateSync(payload, { maxOutputLength: maxBytes });
  } catch {
    // too large or corrupt
  }
  return undefined;
}
