/**
 * How a bench server tells the orchestrator it is ready: one JSON line on file
 * descriptor 3 (a pipe the orchestrator opened), so stdout stays the server's
 * own log, as in production.
 */
import { writeSync } from 'node:fs';

/** Announces the bound port (and anything else worth printing) on fd 3. */
export function announceReady(info: { port: number } & Record<string, unknown>): void {
  writeSync(3, JSON.stringify(info) + '\n');
}
