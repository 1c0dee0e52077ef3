import { z } from 'zod';

const CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/**
 * `logging.accessLogLevels`: the level of the access line per status code, over
 * the defaults of interceptors/access-log.ts (OK and client mistakes at info,
 * DEADLINE_EXCEEDED, PERMISSION_DENIED, RESOURCE_EXHAUSTED and the like at warn,
 * INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS at error). `off` drops those lines,
 * e.g. `{ OK: debug }` keeps successful calls out of an info-level log.
 */
export const AccessLogLevelsSchema = z.partialRecord(z.enum(CODE_NAMES), z.enum(['debug', 'info', 'warn', 'error', 'off'])).default({});
