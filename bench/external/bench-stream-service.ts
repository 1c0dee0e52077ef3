/**
 * The 10-message server stream the external benchmark measures, hosted by the
 * gateway (through createGateway's extraServices, so it passes the whole chain
 * and the handler adapters like any real service) and by the bare server.
 *
 * Why a bench-only service and not a real streaming method: StreamingSynthesize
 * is dominated by eSpeak's synthesis in one worker thread and the number of
 * chunks follows the text, and WatchOrders waits for orders that other calls
 * place and never ends by itself; either would measure an engine or a wait, not
 * what the gateway adds per stream. This one sends the same ten messages every
 * call (the ListVoices reply, pre-encoded), so the only cost that differs
 * between servers is the server itself.
 */
import type * as grpc from '@grpc/grpc-js';
import { serverStream } from '../../src/handler.js';
import type { HostedService } from '../../src/services/hosted-service.js';

/** Fully-qualified name of the bench stream service; it has no proto, its messages are raw bytes. */
export const BENCH_STREAM_SERVICE = 'gatehouse.bench.v1.BenchStream';
/** Full path of its one method. */
export const BENCH_STREAM_METHOD = `/${BENCH_STREAM_SERVICE}/Voices`;
/** Messages every call of {@link BENCH_STREAM_METHOD} carries. */
export const BENCH_STREAM_MESSAGES = 10;

const identity = (bytes: Buffer) => bytes;

/** The grpc-js definition: one server-streaming method whose messages pass through as bytes. */
export function benchStreamDefinition(): grpc.ServiceDefinition {
  return {
    Voices: {
      path: BENCH_STREAM_METHOD,
      originalName: 'Voices',
      requestStream: false,
      responseStream: true,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  } as grpc.ServiceDefinition;
}

/** The service as the gateway hosts it: built with src/handler.ts's adapter, sending `message` ten times with backpressure. */
export function createBenchStreamService(message: Buffer): HostedService {
  return {
    name: BENCH_STREAM_SERVICE,
    definition: benchStreamDefinition(),
    implementation: {
      Voices: serverStream<Buffer, Buffer>(async (_request, _ctx, send) => {
        for (let i = 0; i < BENCH_STREAM_MESSAGES; i++) await send(message);
      }),
    },
    start: async () => undefined,
    stop: async () => undefined,
  };
}
