import type { ServingStatus } from 'grpc-health-check';

/** A worker's health, sent to the primary on every change so /readyz can answer for all of them. */
export interface WorkerHealthMessage {
  type: 'gatehouse:health';
  ready: boolean;
  draining: boolean;
  services: Record<string, ServingStatus>;
}

/** A worker's listening ports, sent once. */
export interface WorkerListeningMessage {
  type: 'gatehouse:listening';
  grpcPort: number;
  healthPort?: number;
}

/** A worker's answer to the primary's `gatehouse:metrics-request`: its registry as prom-client JSON. */
export interface WorkerMetricsReply {
  type: 'gatehouse:metrics';
  requestId: number;
  metrics: unknown[];
}

/** Messages workers send to the primary. */
export type WorkerMessage = WorkerHealthMessage | WorkerListeningMessage | WorkerMetricsReply;

/** Narrows an IPC message to a Gatehouse worker message. */
export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith('gatehouse:')
  );
}
