import type { ServerInterceptingCall, ServerInterceptor } from '@grpc/grpc-js';

/** Decides, from a method's full path (`/pkg.Service/Method`), whether an interceptor applies. */
export type MethodPredicate = (path: string) => boolean;

/**
 * Applies `interceptor` only to methods matching `predicate`; other calls pass
 * straight through. Exemptions (health, reflection) live here, outside the
 * interceptors, so no interceptor carries special cases.
 */
export function select(predicate: MethodPredicate, interceptor: ServerInterceptor): ServerInterceptor {
  return (methodDescriptor, call) =>
    // Returning the inner call unchanged is a no-op layer; grpc-js only calls its interface.
    predicate(methodDescriptor.path) ? interceptor(methodDescriptor, call) : (call as ServerInterceptingCall);
}

/**
 * True for methods of any of the named services (`grpc.health.v1.Health`, ...).
 * It runs on every call: the service part of the path is cut once and looked up
 * in a set, with no closure or array work per call.
 */
export function inServices(serviceNames: readonly string[]): MethodPredicate {
  const names = new Set(serviceNames);
  return (path) => {
    const slash = path.indexOf('/', 1);
    return slash > 1 && names.has(path.slice(1, slash));
  };
}

/** Negates a predicate: `select(not(inServices(exempt)), auth)`. */
export function not(predicate: MethodPredicate): MethodPredicate {
  return (path) => !predicate(path);
}
