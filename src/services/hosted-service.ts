import type * as grpc from '@grpc/grpc-js';

/** A gRPC service the gateway hosts, with the lifecycle health is driven by. */
export interface HostedService {
  /** Fully-qualified name, e.g. `cheesefarm.v1.CheeseService`; also its health service name. */
  readonly name: string;
  /** The service definition from the proto. */
  readonly definition: grpc.ServiceDefinition;
  /** Handlers, built with the adapters in src/handler.ts. */
  readonly implementation: grpc.UntypedServiceImplementation;
  /** Warms up (engines, storage). Health turns SERVING when it resolves and stays NOT_SERVING if it rejects. */
  start(): Promise<void>;
  /**
   * For services whose readiness can change after start (a store going down and
   * coming back): registers `listener` for every change and returns whether the
   * service can serve now. Absent: SERVING from a successful start until stop.
   */
  watchServing?(listener: (serving: boolean) => void): boolean;
  /** Releases workers, files and timers. Called after the listeners have stopped. */
  stop(): Promise<void>;
}
