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
  const upstream = target.upstream.name;
  if (!method.clientStreaming && !method.serverStreaming) {
    return (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      forward(target, new SingleReply(call, call.request, undefined, callback, upstream));
    };
  }
  if (method.clientStreaming && !method.serverStreaming) {
    return (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      forward(target, new SingleReply(call, undefined, call, callback, upstream));
    };
  }
  if (!method.clientStreaming) {
    return (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      forward(target, new StreamedReplies(call, call.request, undefined));
    };
  }
  return (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    forward(target, new StreamedReplies(call, undefined, call));
  };
}

type AnyServerCall =
  | grpc.ServerUnaryCall<Buffer, Buffer>
  | grpc.ServerReadableStream<Buffer, Buffer>
  | grpc.ServerWritableStream<Buffer, Buffer>
  | grpc.ServerDuplexStream<Buffer, Buffer>;

/**
 * What every kind of call gives the forwarder. Classes rather than object
 * literals of closures: a routed call is on the hot path, and one object per
 * call is cheaper to make and to collect than a handful of closures.
 */
abstract class ServerCallDownstream implements Downstream {
  readonly metadata: grpc.Metadata;
  readonly deadline: grpc.Deadline;
  constructor(
    protected readonly call: AnyServerCall,
    readonly request: Buffer | undefined,
    readonly requests: Downstream['requests'],
  ) {
    this.metadata = call.metadata;
    this.deadline = call.getDeadline();
  }
  sendHeaders(metadata: grpc.Metadata): void {
    this.call.sendMetadata(metadata);
  }
  onCancelled(listener: () => void): void {
    (this.call as NodeJS.EventEmitter).on('cancelled', listener);
  }
  abstract send(message: Buffer): boolean;
  abstract onDrain(resume: () => void): void;
  abstract finish(status: grpc.StatusObject): void;
}

/** Unary and client-streaming methods: one reply, given to grpc-js's callback with the trailers. */
class SingleReply extends ServerCallDownstream {
  private reply: Buffer | undefined;
  constructor(
    call: AnyServerCall,
    request: Buffer | undefined,
    requests: Downstream['requests'],
    private readonly callback: grpc.sendUnaryData<Buffer>,
    private readonly upstream: string,
  ) {
    super(call, request, requests);
  }
  send(message: Buffer): boolean {
    this.reply ??= message;
    return true;
  }
  onDrain(): void {}
  finish(status: grpc.StatusObject): void {
    if (status.code !== grpc.status.OK) {
      this.callback({ code: status.code, details: status.details, metadata: status.metadata });
    } else if (this.reply === undefined) {
      this.callback(errorStatus(new GatehouseError('UPSTREAM_PROTOCOL_ERROR', `upstream ${this.upstream} answered OK without a reply message`)));
    } else {
      this.callback(null, this.reply, status.metadata);
    }
  }
}

/** Server-streaming and bidi methods: replies written as they come, the status after the last one has gone out. */
class StreamedReplies extends ServerCallDownstream {
  declare protected readonly call: grpc.ServerWritableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>;
  send(message: Buffer): boolean {
    return this.call.write(message);
  }
  onDrain(resume: () => void): void {
    this.call.once('drain', resume);
  }
  finish(status: grpc.StatusObject): void {
    if (status.code === grpc.status.OK) this.call.end(status.metadata);
    else this.call.emit('error', { code: status.code, details: status.details, metadata: status.metadata });
  }
}
