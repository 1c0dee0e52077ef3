import type { Step } from './gateway-call.js';

/** Decides, from a method's full path (`/pkg.Service/Method`), whether a step applies. */
export type MethodPredicate = (path: string) => boolean;

/**
 * Applies `step` only to methods matching `predicate`; for the others it does
 * nothing, decided once per method at start, so an exempt call pays nothing.
 * Exemptions (health, reflection) live here, outside the steps, so no step
 * carries special cases.
 */
export function onlyFor<S extends Step>(predicate: MethodPredicate, step: S): S {
  return { ...step, forMethod: (method) => (predicate(method.path) ? step.forMethod(method) : undefined) };
}

/**
 * True for methods of any of the named services (`grpc.health.v1.Health`, ...).
 * The service part of the path is cut and looked up in a set.
 */
export function inServices(serviceNames: readonly string[]): MethodPredicate {
  const names = new Set(serviceNames);
  return (path) => {
    const slash = path.indexOf('/', 1);
    return slash > 1 && names.has(path.slice(1, slash));
  };
}

/** Negates a predicate: `onlyFor(not(inServices(exempt)), authentication)`. */
export function not(predicate: MethodPredicate): MethodPredicate {
  return (path) => !predicate(path);
}
