import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { peekCallState } from '../../interceptors/call-state.js';
import { deadlineMs } from '../../interceptors/grpc-compat.js';
import { GatehouseError } from '../errors.js';
import { markPassedThrough } from '../status/passed-through.js';
import { clientResponseMetadata, traceparentOf, upstreamRequestMetadata } from './forward-metadata.js';
import { passThrough } from './pass-through.js';
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
  /** Retries for idempotent methods taking one request; `maxAttempts: 1` for the rest. */
  readonly retry: RetryPolicy;
  readonly counters: ForwardCounters;
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
 * Forwards one call to the route's upstream without decoding a byte of it:
 * round robin over healthy endpoints, the caller's metadata without its
 * credential plus the verified identity, the remaining deadline, the
 * gateway span's `traceparent`. Replies, headers, trailers and status come
 * back as the upstream sent them; both directions respect backpressure (a
 * slow reader pauses the other side instead of filling memory); a client
 * cancel cancels the upstream call. Idempotent single-request methods are
 * retried on UNAVAILABLE before any reply, within the route's budget.
 */
export function forward(target: ForwardTarget, down: Downstream): void {
  const state = peekCallState(down.metadata);
  const upstream = target.upstream;
  if (state !== undefined) state.upstream = upstream.name;
  const deadline = state?.deadline?.getTime() ?? deadlineMs(down.deadline);
  const outgoing = upstreamRequestMetadata(down.metadata, state, traceparentOf(state));
  const retry = target.retry;
  let current: { cancel(): void } | undefined;
  let over = false;
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
    down.finish(status);
  };

  const attempt = (n: number) => {
    if (over) return;
    const endpoint = upstream.pick();
    if (endpoint === undefined) {
      return finish(
        errorStatus(
          new GatehouseError('UPSTREAM_UNAVAILABLE', `upstream ${upstream.name} has no healthy endpoint (${upstream.whyUnavailable()})`, {
            retryDelayMs: 1000,
            metadata: { upstream: upstream.name },
          }),
        ),
      );
    }
    const startedAt = performance.now();
    let answered = false;
    // Unary and client-streaming calls end with their status; streamed replies also wait for the last one to be read.
    let ended = !target.responseStream;
    let status: grpc.StatusObject | undefined;

    const settle = () => {
      if (status === undefined || !ended) return;
      const code = status.code;
      target.counters.latency.observe((performance.now() - startedAt) / 1000);
      target.counters.calls[code]?.inc();
      // Trailers-only replies carry at least content-type: a status with no metadata and no headers before it is grpc-js's own.
      const fromUpstream = answered || Object.keys(status.metadata.getMap()).length > 0;
      if (code === grpc.status.UNAVAILABLE) {
        target.counters.failures.inc();
        upstream.report(endpoint, true);
      } else if (fromUpstream) {
        upstream.report(endpoint, false);
      }
      if (code === grpc.status.UNAVAILABLE && !answered && n < retry.maxAttempts && !over) {
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
      if (fromUpstream) finish({ code, details: status.details, metadata: markPassedThrough(clientResponseMetadata(status.metadata)) });
      else finish(localStatus(code, upstream.name));
    };
    const onReply = (message: Buffer) => {
      answered = true;
      const stream = readable;
      if (!over && !down.send(message) && stream !== undefined) {
        stream.pause();
        down.onDrain(() => stream.resume());
      }
    };
    const onSingleReply = (_error: unknown, message?: Buffer) => {
      if (message !== undefined) onReply(message);
    };

    // The grpc-js call of the method's own kind: the lighter unary and one-way stream calls where they fit.
    const client = endpoint.client;
    const options = Number.isFinite(deadline) ? { deadline } : {};
    let call: grpc.ClientUnaryCall | grpc.ClientReadableStream<Buffer> | grpc.ClientWritableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>;
    let readable: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
    // grpc-js captures the caller's stack for every call it starts (a `new Error()`, for its error messages), which
    // the gateway never reads; at a handler's stack depth that is several microseconds and garbage per call.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      if (!target.requestStream) {
        if (!target.responseStream)
          call = client.makeUnaryRequest(target.path, passThrough, passThrough, down.request!, outgoing, options, onSingleReply);
        else call = readable = client.makeServerStreamRequest(target.path, passThrough, passThrough, down.request!, outgoing, options);
      } else {
        const writable = target.responseStream
          ? (readable = client.makeBidiStreamRequest<Buffer, Buffer>(target.path, passThrough, passThrough, outgoing, options))
          : client.makeClientStreamRequest<Buffer, Buffer>(target.path, passThrough, passThrough, outgoing, options, onSingleReply);
        call = writable;
        pipeRequests(down.requests!, writable, () => over);
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    current = call;
    call.on('metadata', (metadata: grpc.Metadata) => {
      answered = true;
      if (!over) down.sendHeaders(clientResponseMetadata(metadata));
    });
    if (readable !== undefined) {
      readable.on('data', onReply);
      readable.on('end', () => {
        ended = true;
        settle();
      });
      readable.on('error', () => undefined); // the status event carries it
    }
    call.on('status', (received: grpc.StatusObject) => {
      status = received;
      settle();
    });
  };
  attempt(1);
}

/** Client messages to the upstream, pausing the client while the upstream's window is full. */
function pipeRequests(source: NonNullable<Downstream['requests']>, call: grpc.ClientWritableStream<Buffer>, over: () => boolean): void {
  source.on('data', (message: Buffer) => {
    if (over()) return;
    if (!call.write(message)) {
      source.pause();
      call.once('drain', () => source.resume());
    }
  });
  source.on('end', () => {
    if (!over()) call.end();
  });
}
