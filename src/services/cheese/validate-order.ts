import { quoteValue } from '../../../interceptors/bounded-text.js';
import { invalidFields, type FieldViolation } from '../../errors.js';
import type { CheeseRequest__Output } from '../../generated/cheesefarm/v1/CheeseRequest.js';
import { CHEESE_TYPES, isCheeseType } from './cheese-types.js';
import type { NewOrder } from './order-store.js';

/** Limits of one order request. */
export const ORDER_LIMITS = Object.freeze({ minAgeMonths: 1, maxAgeMonths: 120, maxQuantity: 1000, maxKeyChars: 128 });

/**
 * Checks a CheeseRequest and lists every problem at once, so a client fixes
 * its request in one round trip. Returns the order the store should place.
 */
export function validateOrderRequest(request: CheeseRequest__Output, orderedBy: string): NewOrder {
  const violations: FieldViolation[] = [];
  if (!isCheeseType(request.type)) {
    const got = request.type === 'CHEESE_TYPE_UNSPECIFIED' ? 'it is missing' : `got ${quoteValue(request.type)}`;
    violations.push({ field: 'type', description: `must be one of ${CHEESE_TYPES.join(', ')}; ${got}` });
  }
  if (!Number.isInteger(request.age) || request.age < ORDER_LIMITS.minAgeMonths || request.age > ORDER_LIMITS.maxAgeMonths) {
    const got = request.age === 0 ? 'it is missing' : `got ${request.age}`;
    violations.push({ field: 'age', description: `must be ${ORDER_LIMITS.minAgeMonths} to ${ORDER_LIMITS.maxAgeMonths} months; ${got}` });
  }
  const key = request.idempotencyKey;
  if (key.length === 0) {
    violations.push({
      field: 'idempotency_key',
      description: 'is required: choose a unique value per order (a UUID) and reuse it only to retry that order',
    });
  } else if (key.length > ORDER_LIMITS.maxKeyChars || !/^[\x21-\x7e]+$/.test(key)) {
    violations.push({ field: 'idempotency_key', description: `must be 1 to ${ORDER_LIMITS.maxKeyChars} printable ASCII characters without spaces` });
  }
  const quantity = request.quantity === 0 ? 1 : request.quantity;
  if (quantity < 1 || quantity > ORDER_LIMITS.maxQuantity) {
    violations.push({ field: 'quantity', description: `must be 1 to ${ORDER_LIMITS.maxQuantity} wheels; got ${request.quantity}` });
  }
  if (violations.length > 0) {
    throw invalidFields(violations);
  }
  return { idempotencyKey: key, orderedBy, type: request.type as NewOrder['type'], ageMonths: request.age, quantity };
}
