import type * as grpc from '@grpc/grpc-js';
import { checkHealthStatus } from '../../src/client/health-check.js';

/** Calls grpc.health.v1.Health/Check and resolves with the status name. */
export function checkHealth(target: string, credentials: grpc.ChannelCredentials, service = ''): Promise<string> {
  return checkHealthStatus(target, credentials, service);
}
