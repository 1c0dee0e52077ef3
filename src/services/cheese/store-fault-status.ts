import { GatehouseError } from '../../errors.js';
import type { Reason } from '../../status/reasons.js';
import type { StoreFault, StoreFaultKind } from './order-store.js';

interface FaultStatus {
  /** Its catalogue entry (src/status/reasons.ts) gives the code: UNAVAILABLE, RESOURCE_EXHAUSTED or FAILED_PRECONDITION. */
  reason: Reason;
  /** Client-safe; the cause stays in the log. */
  message: string;
  /** RetryInfo; absent when retrying cannot help. */
  retryDelayMs?: number;
}

const SAME_KEY = 'retry with the same idempotency_key, which never places an order twice';

/** What a client is told for each kind of store fault: a code it can act on, never INTERNAL. */
const FAULT_STATUS: Readonly<Record<StoreFaultKind, FaultStatus>> = Object.freeze({
  unavailable: { reason: 'STORE_UNAVAILABLE', retryDelayMs: 1000, message: `the order store is unavailable; ${SAME_KEY}, in 1 s` },
  busy: { reason: 'STORE_BUSY', retryDelayMs: 200, message: `the order store is busy; ${SAME_KEY}, in 200 ms` },
  'disk-full': {
    reason: 'STORE_FULL',
    retryDelayMs: 5000,
    message: `the order store is out of disk space and nothing was written; ${SAME_KEY} once space is freed (in 5 s)`,
  },
  'read-only': {
    reason: 'STORE_READ_ONLY',
    retryDelayMs: 2000,
    message: `the order store is read-only at the moment and nothing was written; ${SAME_KEY}, in 2 s`,
  },
  corrupt: { reason: 'STORE_DAMAGED', message: 'the order store is damaged and needs an operator to repair it; retrying will not help until then' },
});

/** The client's status for a store fault, carrying the fault as its private cause. */
export function storeFaultError(fault: StoreFault): GatehouseError {
  const mapped = FAULT_STATUS[fault.kind];
  return new GatehouseError(mapped.reason, mapped.message, { retryDelayMs: mapped.retryDelayMs, cause: fault });
}
