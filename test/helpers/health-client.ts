import type * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkHealthStatus } from '../../src/client/health-check.js';

/** Calls grpc.health.v1.Health/Check and resolves with the status name. */
export function checkHealth(target: string, credentials: grpc.ChannelCredentials, service = ''): Promise<string> {
  return checkHealthStatus(target, credentials, service);
}

/** Polls Check until it answers `wanted` (a process reports NOT_SERVING until its warm-up ends); returns the last answer. */
export async function waitForHealth(
  target: string,
  credentials: grpc.ChannelCredentials,
  wanted: string,
  timeoutMs = 10_000,
  service = '',
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let status = await checkHealth(target, credentials, service);
  while (status !== wanted && Date.now() < deadline) {
    await sleep(50);
    status = await checkHealth(target, credentials, service);
  }
  return status;
}
