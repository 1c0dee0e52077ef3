import { status as Status, type ServiceError } from '@grpc/grpc-js';
import { createStatusDetailsCodec, STATUS_DETAILS_KEY } from '../status/status-details.js';

/** Exit code for a failed call: 10 plus the gRPC code (13 INVALID_ARGUMENT, 24 UNAVAILABLE, ...). */
export const exitCodeForStatus = (code: number) => 10 + code;

/** Prints a reply: JSON when asked, else the human rendering. */
export function printReply(value: unknown, json: boolean, human: (value: never) => string): void {
  process.stdout.write((json ? JSON.stringify(value) : human(value as never)) + '\n');
}

/**
 * Prints a failed call for a person (or as JSON) with its rich details,
 * and returns the exit code that says which status it was.
 */
export function printCallError(error: unknown, json: boolean): number {
  const serviceError = error as Partial<ServiceError>;
  if (typeof serviceError.code !== 'number') throw error;
  const raw = serviceError.metadata?.get(STATUS_DETAILS_KEY)[0];
  const details = raw ? createStatusDetailsCodec().decode(Buffer.isBuffer(raw) ? raw : Buffer.from(raw)) : undefined;
  const code = Status[serviceError.code] ?? String(serviceError.code);
  if (json) {
    process.stderr.write(JSON.stringify({ code, message: serviceError.details, ...details }) + '\n');
  } else {
    const lines = [`error: ${code}: ${serviceError.details}`];
    if (details?.errorInfo?.reason) lines.push(`  reason: ${details.errorInfo.reason} (${details.errorInfo.domain})`);
    for (const v of details?.fieldViolations ?? []) lines.push(`  field ${v.field}: ${v.description}`);
    if (details?.retryDelayMs !== undefined) lines.push(`  retry after: ${details.retryDelayMs} ms`);
    if (serviceError.code === Status.UNAVAILABLE && /connect|handshake|certificate|No connection/i.test(serviceError.details ?? '')) {
      lines.push('  hint: is the gateway running, and do --target, --ca, --cert and --key match it?');
    }
    if (serviceError.code === Status.UNAUTHENTICATED && /requires a bearer token/.test(serviceError.details ?? '')) {
      lines.push('  hint: for the development gateway, export GATEHOUSE_TOKEN=$(gatehouse token mint), or pass --token');
    }
    process.stderr.write(lines.join('\n') + '\n');
  }
  return exitCodeForStatus(serviceError.code);
}
