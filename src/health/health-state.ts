import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

/** The overall status, reported for the empty service name `""`. */
export const OVERALL = '';

/** Listener for status changes (metrics, logs). */
export type HealthListener = (service: string, status: ServingStatus) => void;

/**
 * The one health state of a gateway process. The main listener and the
 * health-only listener serve the same HealthImplementation, and the admin
 * /readyz reads the same answers, so probes can never disagree.
 */
export interface HealthState {
  /** Registered on both gRPC listeners. */
  readonly implementation: HealthImplementation;
  /** Sets one hosted service's status; the overall status follows. */
  set(service: string, status: ServingStatus): void;
  get(service: string): ServingStatus | undefined;
  /** True while every required service is SERVING and the process is not draining. */
  isReady(): boolean;
  /** True once draining began; never goes back. */
  isDraining(): boolean;
  /** Turns everything NOT_SERVING for good: the first step of shutdown. */
  beginDrain(): void;
  /** Every known service and its status, overall first. */
  snapshot(): Record<string, ServingStatus>;
  onChange(listener: HealthListener): void;
}

/**
 * Creates the health state. Services start NOT_SERVING and become SERVING when
 * their warm-up finishes; the overall status is SERVING only when all
 * `requiredServices` are.
 */
export function createHealthState(services: readonly string[], requiredServices: readonly string[] = services): HealthState {
  const statuses = new Map<string, ServingStatus>([[OVERALL, 'NOT_SERVING'], ...services.map((s) => [s, 'NOT_SERVING'] as const)]);
  const implementation = new HealthImplementation(Object.fromEntries(statuses));
  const listeners: HealthListener[] = [];
  let draining = false;

  const write = (service: string, status: ServingStatus) => {
    if (statuses.get(service) === status) return;
    statuses.set(service, status);
    implementation.setStatus(service, status);
    for (const listener of listeners) listener(service, status);
  };
  const ready = () => !draining && requiredServices.every((s) => statuses.get(s) === 'SERVING');
  const refreshOverall = () => write(OVERALL, ready() ? 'SERVING' : 'NOT_SERVING');

  return {
    implementation,
    set(service, status) {
      if (draining && status === 'SERVING') return;
      write(service, status);
      refreshOverall();
    },
    get: (service) => statuses.get(service),
    isReady: ready,
    isDraining: () => draining,
    beginDrain() {
      draining = true;
      for (const service of statuses.keys()) write(service, 'NOT_SERVING');
    },
    snapshot: () => Object.fromEntries(statuses),
    onChange: (listener) => {
      listeners.push(listener);
    },
  };
}
