import type * as grpc from '@grpc/grpc-js';
import type { Readable } from 'node:stream';
import { openCallContext, type AnyServerCall, type CallContext } from './call-context.js';
import { toStatus } from './status/to-status.js';

export type { CallContext } from './call-context.js';

/** Sends one message on a stream; resolves when HTTP/2 can take more (backpressure), rejects once the caller is gone. */
export type Send<Res> = (message: Res) => Promise<void>;

/**
 * Unary adapter: the handler returns a promise; a resolved value becomes the
 * reply, and anything thrown or rejected becomes exactly one proper status.
 * A handler that returns normally after its signal fired (a watch that ends
 * quietly on abort) still ends the call with the signal's reason: the call
 * timed out or was cancelled, whatever the handler made of it.
 */
export function unary<Req, Res>(fn: (request: Req, ctx: CallContext) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  const run = (call: grpc.ServerUnaryCall<Req, Res>, ctx: CallContext) => fn(call.request, ctx);
  return (call, callback) => void answer(call, callback, run, reply, replyStatus);
}

/** Server-streaming adapter: the handler sends with backpressure and returns when done. */
export function serverStream<Req, Res>(
  fn: (request: Req, ctx: CallContext, send: Send<Res>) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  const run = (call: grpc.ServerWritableStream<Req, Res>, ctx: CallContext) => fn(call.request, ctx, sender(call, ctx));
  return (call) => void answer(call, undefined, run, endStream, streamStatus);
}

/** Client-streaming adapter: the handler pulls requests from an async iterable and returns one reply. */
export function clientStream<Req, Res>(
  fn: (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>,
): grpc.handleClientStreamingCall<Req, Res> {
  const run = (call: grpc.ServerReadableStream<Req, Res>, ctx: CallContext) => fn(readMessages<Req>(call, ctx.signal), ctx);
  return (call, callback) => void answer(call, callback, run, reply, replyStatus);
}

/** Bidirectional adapter: requests as an async iterable (pulled, so backpressured), replies through `send`. */
export function bidiStream<Req, Res>(
  fn: (requests: AsyncIterable<Req>, ctx: CallContext, send: Send<Res>) => Promise<void>,
): grpc.handleBidiStreamingCall<Req, Res> {
  const run = (call: grpc.ServerDuplexStream<Req, Res>, ctx: CallContext) => fn(readMessages<Req>(call, ctx.signal), ctx, sender(call, ctx));
  return (call) => void answer(call, undefined, run, endStream, streamStatus);
}

type Status = ReturnType<typeof toStatus>;
type Callback<T> = ((error: Status | null, value?: T) => void) | undefined;
const reply = <T>(_call: AnyServerCall, callback: Callback<T>, value: T) => callback!(null, value);
const replyStatus = <T>(_call: AnyServerCall, callback: Callback<T>, status: Status) => callback!(status);
const endStream = (call: AnyServerCall) => (call as grpc.ServerWritableStream<unknown, unknown>).end();
const streamStatus = (call: AnyServerCall, _callback: unknown, status: Status) => call.emit('error', status);

/**
 * Runs one call's handler and ends the call exactly once: `done` with what it
 * returned, or `fail` with the status of what it threw (a synchronous throw
 * included) or of why the call ended early (deadline, cancel), whatever the
 * handler made of that. The functions it takes are made once per method, so a
 * call allocates no closure here; the async function resumes in the same
 * microtask a `.then` would.
 */
async function answer<C extends AnyServerCall, T>(
  call: C,
  callback: Callback<T>,
  run: (call: C, ctx: CallContext) => Promise<T>,
  done: (call: C, callback: Callback<T>, value: T) => void,
  fail: (call: C, callback: Callback<T>, status: Status) => void,
): Promise<void> {
  const opened = openCallContext(call, call.getPath());
  let value: T;
  try {
    value = await run(call, opened.ctx);
  } catch (error) {
    fail(call, callback, toStatus(opened.settle() ?? error, call.metadata));
    return;
  }
  const aborted = opened.settle();
  if (aborted) fail(call, callback, toStatus(aborted, call.metadata));
  else done(call, callback, value);
}

/** Sends with backpressure; the context's signal is asked for only when a send has to wait or the call is already over. */
function sender<Res>(stream: grpc.ServerWritableStream<unknown, Res> | grpc.ServerDuplexStream<unknown, Res>, ctx: CallContext): Send<Res> {
  return (message) => {
    if (stream.cancelled && ctx.signal.aborted) return Promise.reject(ctx.signal.reason);
    if (stream.write(message)) return Promise.resolve();
    const signal = ctx.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        stream.removeListener('drain', onDrain);
        reject(signal.reason);
      };
      stream.once('drain', onDrain);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };
}

/**
 * Requests as an async iterable. Readable's own iterator reads only when asked
 * (backpressure); racing it with the signal ends the loop when the caller is
 * gone, where the plain iterator would wait for an end that never comes.
 */
async function* readMessages<Req>(stream: Readable, signal: AbortSignal): AsyncGenerator<Req> {
  // destroyOnReturn: false — the default iterator destroys the stream when the client half-closes, and a destroyed
  // grpc-js duplex never sends the replies and status that follow, so the client would wait for its deadline.
  const iterator = stream.iterator({ destroyOnReturn: false }) as AsyncIterator<Req>;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
