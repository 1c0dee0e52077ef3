import type { Metadata } from '@grpc/grpc-js';

/** Marks trailers of a status that came from a service behind the gateway, not from the gateway itself. */
const PASSED_THROUGH = Symbol('gatehouse.passedThrough');

type Marked = Metadata & { [PASSED_THROUGH]?: true };

/**
 * Marks `trailers` as those of a status an upstream sent (src/upstream/):
 * the status mapping then leaves code, message, details and trailers as the
 * upstream wrote them, only bounding the message's length. The mark is a
 * symbol on the object, invisible on the wire.
 */
export function markPassedThrough(trailers: Metadata): Metadata {
  (trailers as Marked)[PASSED_THROUGH] = true;
  return trailers;
}

/** Whether {@link markPassedThrough} marked these trailers. */
export function isPassedThrough(trailers: Metadata | null | undefined): boolean {
  return trailers != null && (trailers as Marked)[PASSED_THROUGH] === true;
}
