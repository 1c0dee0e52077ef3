import { randomBytes } from 'node:crypto';

/** A new order id: `ord_` and 20 random hex digits, unguessable and unique across replicas. */
export function newOrderId(): string {
  return `ord_${randomBytes(10).toString('hex')}`;
}
