import type { Deadline, Metadata, ServerInterceptingCall, ServerInterceptingCallInterface } from '@grpc/grpc-js';

// grpc-js does not export these from its index; derived here so no deep import pins its file layout.
/** The inbound listener a layer passes down in `start`. */
export type InterceptingServerListener = Parameters<ServerInterceptingCallInterface['start']>[0];
type AuthContext = ReturnType<ServerInterceptingCallInterface['getAuthContext']>;
type ConnectionInfo = ReturnType<ServerInterceptingCallInterface['getConnectionInfo']>;
type PerRequestMetricRecorder = ReturnType<ServerInterceptingCallInterface['getMetricsRecorder']>;

/** A status as interceptors pass it on (grpc-js's `PartialStatusObject`): code and details, metadata optional. */
export type PartialStatus = Parameters<ServerInterceptingCallInterface['sendStatus']>[0];

/**
 * One interceptor layer as a single object per call that is both the call
 * (outbound: sendMetadata/sendMessage/sendStatus) and the listener (inbound:
 * onReceiveMetadata/...): subclasses override only the hooks they need.
 *
 * Why not grpc-js's `ServerInterceptingCall` with a `Responder` and a listener:
 * that costs a closure per hook per call plus a second listener object, and its
 * pending-message buffering only matters for layers whose hooks are
 * asynchronous. Every layer built on this class is synchronous, so a plain
 * forwarding object keeps the per-call cost to one allocation per layer.
 * grpc-js only ever uses the interface (see interceptors/select.ts).
 */
export class ForwardingCall implements ServerInterceptingCallInterface, InterceptingServerListener {
  /** The listener of the layer further from the wire (towards the handler); set by `start`. */
  protected declare listener: InterceptingServerListener;

  /** @param next the layer closer to the wire. */
  constructor(protected readonly next: ServerInterceptingCallInterface) {}

  /** As a grpc-js `ServerInterceptor` return value. */
  asInterceptingCall(): ServerInterceptingCall {
    return this as unknown as ServerInterceptingCall;
  }

  start(listener: InterceptingServerListener): void {
    this.listener = listener;
    this.next.start(this);
  }
  sendMetadata(metadata: Metadata): void {
    this.next.sendMetadata(metadata);
  }
  sendMessage(message: unknown, callback: () => void): void {
    this.next.sendMessage(message, callback);
  }
  sendStatus(status: PartialStatus): void {
    this.next.sendStatus(status);
  }
  startRead(): void {
    this.next.startRead();
  }
  getPeer(): string {
    return this.next.getPeer();
  }
  getDeadline(): Deadline {
    return this.next.getDeadline();
  }
  getHost(): string {
    return this.next.getHost();
  }
  getAuthContext(): AuthContext {
    return this.next.getAuthContext();
  }
  getConnectionInfo(): ConnectionInfo {
    return this.next.getConnectionInfo();
  }
  getMetricsRecorder(): PerRequestMetricRecorder {
    return this.next.getMetricsRecorder();
  }

  onReceiveMetadata(metadata: Metadata): void {
    this.listener.onReceiveMetadata(metadata);
  }
  onReceiveMessage(message: unknown): void {
    this.listener.onReceiveMessage(message);
  }
  onReceiveHalfClose(): void {
    this.listener.onReceiveHalfClose();
  }
  /** Fires once at the end of every call, normal or not (DESIGN.md). */
  onCancel(): void {
    this.listener.onCancel();
  }
}

/** The call's deadline as epoch milliseconds; `Infinity` when the client sent none. */
export function deadlineMs(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}
