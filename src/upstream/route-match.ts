/** Whether a route's `service` (a full name, or a package prefix `pkg.*`) covers a fully-qualified service name. */
export function routeCovers(pattern: string, service: string): boolean {
  return pattern.endsWith('.*') ? service.startsWith(pattern.slice(0, -1)) : service === pattern;
}

/** Services every gRPC server may have that are never routed: an upstream's own health and reflection. */
export function isInfrastructureService(service: string): boolean {
  return service.startsWith('grpc.health.') || service.startsWith('grpc.reflection.');
}
