import { StoreFault, type StoreFaultKind } from './order-store.js';

/** Node socket errors that mean the server is not there (down, restarting, unreachable). */
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** node-postgres's own words for a lost or never-made connection (it has no codes for them). */
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|Query read timeout|the database system is (starting up|shutting down|in recovery mode)|Client was closed/i;

/**
 * Maps a node-postgres error to a StoreFault by SQLSTATE (PostgreSQL appendix
 * A) or socket error; returns undefined for errors that are bugs (syntax,
 * constraint, type), which must stay INTERNAL.
 */
export function postgresFaultKind(error: unknown): StoreFaultKind | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (CONNECTION_ERRNOS.has(code)) return 'unavailable';
    if (code.startsWith('08')) return 'unavailable'; // connection exception
    if (code === '57P01' || code === '57P02' || code === '57P03' || code === '57P05') return 'unavailable'; // shutdown, crash, cannot connect now
    if (code === '53100') return 'disk-full';
    if (code.startsWith('53')) return 'busy'; // out of memory, too many connections
    if (code === '57014' || code === '55P03' || code === '40001' || code === '40P01') return 'busy'; // timeout, lock, serialization, deadlock
    if (code === '25006') return 'read-only'; // a standby, or default_transaction_read_only
    if (code === 'XX001' || code === 'XX002') return 'corrupt';
  }
  if (error instanceof Error && CONNECTION_MESSAGES.test(error.message)) return 'unavailable';
  return undefined;
}

/** The error as a StoreFault when it is one, else rethrown unchanged. */
export function toPostgresFault(error: unknown): StoreFault {
  if (error instanceof StoreFault) return error;
  const kind = postgresFaultKind(error);
  if (kind === undefined) throw error;
  const code = (error as { code?: unknown }).code;
  // PostgreSQL's messages name objects, never the connection string or password.
  return new StoreFault(kind, `PostgreSQL${typeof code === 'string' ? ` ${code}` : ''}: ${(error as Error).message}`.slice(0, 300), { cause: error });
}

/** `host:port/database` of a PostgreSQL URL, for logs: never the user name, password or query parameters. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || '(PGHOST)'}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname.length > 1 ? parsed.pathname : '/(PGDATABASE)'}`;
  } catch {
    return '(unparsable URL)';
  }
}
