import * as grpc from '@grpc/grpc-js';
import type { HostedService } from '../services/hosted-service.js';
import type { DescribedMethod, DescribedService } from './described-services.js';
import { GatehouseError } from '../errors.js';
import { forward, type Downstream, type ForwardTarget } from './forward-call.js';
import { passThrough } from './pass-through.js';
import type { UpstreamCluster } from './upstream-cluster.js';
import { errorStatus } from './upstream-status.js';

/** Options for {@link createRoutedService}. */
export interface RoutedServiceOptions {
  service: DescribedService;
  upstream: UpstreamCluster;
  /** The forwarding target of one method (retries, counters), built once per method. */
  targetFor(method: DescribedMethod, path: string): ForwardTarget;
}

/**
 * A routed service as the gateway hosts it: every method registered on the
 * main listener with pass-through serializers, so each call runs the whole
 * chain (and shows in grpc_server_* like a hosted one) before its bytes go
 * upstream. Its health is its upstream's: SERVING while an endpoint is.
 * The upstream's channels and health checks live as long as the service.
 */
export function createRoutedService(options: RoutedServiceOptions): HostedService {
  const { service, upstream } = options;
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const path = `/${service.name}/${method.name}`;
    definition[method.name] = {
      path,
      requestStream: method.clientStreaming,
      responseStream: method.serverStreaming,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
    };
    implementation[method.name] = handlerFor(method, options.targetFor(method, path));
  }
  return {
    name: service.name,
    definition: definition as grpc.ServiceDefinition,
    implementation,
    start: () => upstream.start(),
    watchServing(listener) {
      upstream.onServingChange(listener);
      return upstream.serving();
    },
    stop: async () => upstream.stop(),
  };
}

type Handler = grpc.UntypedHandleCall;

/** The grpc-js handler of one method kind, adapting its call object to the forwarder's {@link Downstream}. */
function handlerFor(method: DescribedMethod, target: ForwardTarget): Handler {
  if (!method.clientStreaming && !method.serverStreaming) {
    return (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      forward(target, replyOnce(call, call.request, undefined, callback, target.upstream.name));
    };
  }
  if (method.clientStreaming && !method.serverStreaming) {
    return (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      forward(target, replyOnce(call, undefined, call, callback, target.upstream.name));
    };
  }
  if (!method.clientStreaming) {
    return (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      forward(target, replyStream(call, call.request, undefined));
    };
  }
  return (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    forward(target, replyStream(call, undefined, call));
  };
}

type AnyServerCall =
  | grpc.ServerUnaryCall<Buffer, Buffer>
  | grpc.ServerReadableStream<Buffer, Buffer>
  | grpc.ServerWritableStream<Buffer, Buffer>
  | grpc.ServerDuplexStream<Buffer, Buffer>;

function common(call: AnyServerCall, request: Buffer | undefined, requests: Downstream['requests']) {
  return {
    metadata: call.metadata,
    request,
    requests,
    deadline: call.getDeadline(),
    sendHeaders: (metadata: grpc.Metadata) => call.sendMetadata(metadata),
    onCancelled: (listener: () => void) => {
      (call as NodeJS.EventEmitter).on('cancelled', listener);
    },
  };
}

/** Unary and client-streaming methods: one reply, given to grpc-js's callback with the trailers. */
function replyOnce(
  call: AnyServerCall,
  request: Buffer | undefined,
  requests: Downstream['requests'],
  callback: grpc.sendUnaryData<Buffer>,
  upstream: string,
): Downstream {
  let reply: Buffer | undefined;
  return {
    ...common(call, request, requests),
    send(message) {
      reply ??= message;
      return true;
    },
    onDrain: () => undefined,
    finish(status) {
      if (status.code !== grpc.status.OK) return callback({ code: status.code, details: status.details, metadata: status.metadata });
      if (reply === undefined) {
        return callback(errorStatus(new GatehouseError('UPSTREAM_PROTOCOL_ERROR', `upstream ${upstream} answered OK without a reply message`)));
      }
      callback(null, reply, status.metadata);
    },
  };
}

/** Server-streaming and bidi methods: replies written as they come, the status after the last one has gone out. */
function replyStream(
  call: grpc.ServerWritableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>,
  request: Buffer | undefined,
  requests: Downstream['requests'],
): Downstream {
  return {
    ...common(call, request, requests),
    send: (message) => call.write(message),
    onDrain: (resume) => {
      call.once('drain', resume);
    },
    finish(status) {
      if (status.code === grpc.status.OK) call.end(status.metadata);
      else call.emit('error', { code: status.code, details: status.details, metadata: status.metadata });
    },
  };
}
