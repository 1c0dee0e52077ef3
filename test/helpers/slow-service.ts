import * as grpc from '@grpc/grpc-js';
import { serverStream, unary, type CallContext } from '../../src/handler.js';
import type { HostedService } from '../../src/services/hosted-service.js';

/** The test service's name; give it a policy rule (`policy.services`) when auth is on. */
export const SLOW_SERVICE = 'gatehousetest.v1.Slow';

/** What one call to the slow service saw, for assertions. */
export interface SlowCallRecord {
  /** The handler's effective deadline. */
  deadline: Date | undefined;
  /** Work steps done (one per millisecond or so) before the handler stopped. */
  steps: number;
  /** Why `ctx.signal` fired, when it did. */
  abortReason: unknown;
  /** Set once the handler has returned or thrown. */
  finished: boolean;
  /** When the call reached the handler, epoch ms. */
  startedAtMs: number;
}

/** A request to `Work` / `Stream`: how long to work, in ms (default: until the caller is gone). */
export interface SlowRequest {
  workMs?: number;
  /** Make the handler throw a plain Error with this text (a bug). */
  crash?: string;
}

const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value ?? {})),
  deserialize: (bytes: Buffer) => (bytes.length === 0 ? {} : JSON.parse(bytes.toString('utf8'))) as unknown,
};

/** A JSON-encoded service definition, so tests need no .proto. */
export const slowServiceDefinition: grpc.ServiceDefinition = {
  Work: {
    path: `/${SLOW_SERVICE}/Work`,
    requestStream: false,
    responseStream: false,
    originalName: 'work',
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
  Stream: {
    path: `/${SLOW_SERVICE}/Stream`,
    requestStream: false,
    responseStream: true,
    originalName: 'stream',
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

/** A client constructor for the slow service. */
export const SlowClient = grpc.makeClientConstructor(slowServiceDefinition, SLOW_SERVICE);

/**
 * A hosted service whose handlers do CPU work in small steps until told to
 * stop, yielding between steps the way a real engine does: it shows whether a
 * cancelled or timed-out call really stops using the CPU.
 */
export function createSlowService(): HostedService & { calls: SlowCallRecord[] } {
  const calls: SlowCallRecord[] = [];
  const work = async (request: SlowRequest, ctx: CallContext, onStep?: (step: number) => Promise<void>): Promise<SlowCallRecord> => {
    const record: SlowCallRecord = { deadline: ctx.deadline, steps: 0, abortReason: undefined, finished: false, startedAtMs: Date.now() };
    calls.push(record);
    ctx.signal.addEventListener(
      'abort',
      () => {
        record.abortReason = ctx.signal.reason;
      },
      { once: true },
    );
    try {
      if (request.crash) throw new Error(request.crash);
      const until = request.workMs === undefined ? Infinity : Date.now() + request.workMs;
      while (Date.now() < until) {
        ctx.signal.throwIfAborted();
        const spinUntil = Date.now() + 1;
        while (Date.now() < spinUntil) {
          /* a millisecond of CPU */
        }
        record.steps++;
        if (onStep) await onStep(record.steps);
        await new Promise((resolve) => setImmediate(resolve));
      }
      return record;
    } finally {
      record.finished = true;
    }
  };
  return {
    name: SLOW_SERVICE,
    definition: slowServiceDefinition,
    implementation: {
      Work: unary<SlowRequest, { steps: number }>(async (request, ctx) => ({ steps: (await work(request, ctx)).steps })),
      Stream: serverStream<SlowRequest, { step: number }>(async (request, ctx, send) => {
        await work(request, ctx, (step) => (step % 10 === 0 ? send({ step }) : Promise.resolve()));
      }),
    },
    calls,
    start: async () => undefined,
    stop: async () => undefined,
  };
}
