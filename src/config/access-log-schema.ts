import { z } from 'zod';
import { CODE_NAMES } from '../../interceptors/method-names.js';

/**
 * `logging.accessLogLevels`: the level of the access line per status code, over
 * the defaults of interceptors/access-log.ts (OK and client mistakes at info,
 * DEADLINE_EXCEEDED, PERMISSION_DENIED, RESOURCE_EXHAUSTED and the like at warn,
 * INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS at error). `off` drops those lines,
 * e.g. `{ OK: debug }` keeps successful calls out of an info-level log.
 */
export const AccessLogLevelsSchema = z.partialRecord(z.enum(CODE_NAMES), z.enum(['debug', 'info', 'warn', 'error', 'off'])).default({});
