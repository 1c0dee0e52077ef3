import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { RouteConfig } from '../config/upstream-schema.js';
import type { Logger } from '../logging/logger.js';
import { loadPackageDefinition } from '../proto/load.js';
import { fileBytes } from '../reflection/descriptor-index.js';
import { summarizeFile, type DescribedService } from './described-services.js';
import { descriptorFilesFromProtos } from './proto-files.js';
import { reflectUpstream, type ReflectedApi } from './reflection-client.js';
import { isInfrastructureService, routeCovers } from './route-match.js';
import { upstreamChannelSettings } from './upstream-credentials.js';

/** One routed service: what it is, which route sent it where. */
export interface RoutedServiceSpec {
  readonly service: DescribedService;
  readonly route: RouteConfig;
}

/** Everything discovery found: the routed services and the files describing them. */
export interface DiscoveredRoutes {
  readonly services: readonly RoutedServiceSpec[];
  /** Serialized FileDescriptorProtos of the routed services and their imports (the gateway's reflection serves them). */
  readonly files: readonly Buffer[];
}

/** No routes: what a gateway without `routes` runs with. */
export const NO_ROUTES: DiscoveredRoutes = Object.freeze({ services: [], files: [] });

/** Services the gateway hosts or could host (every service its protos declare, health and reflection): never routed. */
export function hostedServiceNames(): string[] {
  const declared = Object.entries(loadPackageDefinition())
    .filter(([, entry]) => typeof entry === 'object' && entry !== null && !('format' in entry))
    .map(([name]) => name);
  return [...declared, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];
}

/** The problems of routes that no network call is needed to see: a route covering a hosted service. */
export function routeProblems(routes: readonly RouteConfig[], hosted: readonly string[]): string[] {
  const problems: string[] = [];
  routes.forEach((route, i) => {
    const clash = hosted.filter((name) => routeCovers(route.service, name));
    if (clash.length > 0)
      problems.push(`routes.${i}.service: ${route.service} names ${clash.join(', ')}, which the gateway hosts itself; route another service`);
  });
  return problems;
}

/**
 * Finds the methods of every routed service, before the gateway is built:
 * from the route's descriptor set or proto files when it names them (read
 * now, no network), else from the upstream's server reflection, asked until it answers or the
 * upstream's `discovery.startTimeoutMs` passes. Every problem (a route over a
 * hosted service, a route that matches nothing, an upstream that never
 * answered) is one ConfigError, so the gateway does not start half routed.
 */
export async function discoverRoutes(config: Config, logger: Logger): Promise<DiscoveredRoutes> {
  if (config.routes.length === 0) return NO_ROUTES;
  const problems = routeProblems(config.routes, hostedServiceNames());
  if (problems.length > 0) throw new ConfigError(problems);

  // Per route, where its services come from: its descriptor set, or its upstream's reflection (asked once per upstream).
  const files = new Map<string, Buffer>();
  const candidates = new Map<RouteConfig, DescribedService[]>();
  const addFiles = (list: readonly Uint8Array[]): DescribedService[] => {
    const services: DescribedService[] = [];
    for (const bytes of list) {
      const summary = summarizeFile(bytes);
      if (!files.has(summary.name)) files.set(summary.name, Buffer.from(bytes));
      services.push(...summary.services);
    }
    return services;
  };
  config.routes.forEach((route, i) => {
    try {
      if (route.descriptorSetFile !== undefined) candidates.set(route, addFiles(fileBytes(readFileSync(route.descriptorSetFile))));
      else if (route.protoFiles !== undefined) candidates.set(route, addFiles(descriptorFilesFromProtos(route.protoFiles, route.protoIncludeDirs)));
    } catch (error) {
      const what =
        route.descriptorSetFile !== undefined ? `descriptorSetFile: cannot read ${route.descriptorSetFile}` : 'protoFiles: cannot parse them';
      problems.push(`routes.${i}.${what}: ${(error as Error).message}`);
    }
  });
  const byUpstream = new Map<string, RouteConfig[]>();
  for (const route of config.routes) {
    if (usesReflection(route)) byUpstream.set(route.upstream, [...(byUpstream.get(route.upstream) ?? []), route]);
  }
  await Promise.all(
    [...byUpstream].map(async ([name, routes]) => {
      try {
        const api = await reflectWithRetries(config, name, routes, logger);
        const described = addFiles(api.files);
        for (const route of routes) candidates.set(route, described);
      } catch (error) {
        problems.push(
          `upstreams.${name}: server reflection did not answer within ${config.upstreams[name]!.discovery.startTimeoutMs} ms (${(error as Error).message}); ` +
            'start the upstream first, or name a descriptor set in the route (descriptorSetFile)',
        );
      }
    }),
  );
  if (problems.length > 0) throw new ConfigError(problems);

  // First route that covers a service wins it.
  const taken = new Set<string>();
  const services: RoutedServiceSpec[] = [];
  config.routes.forEach((route, i) => {
    const offered = (candidates.get(route) ?? []).filter((s) => !isInfrastructureService(s.name));
    const matched = offered.filter((s) => routeCovers(route.service, s.name) && !taken.has(s.name));
    if (matched.length === 0) {
      const known = [...new Set(offered.map((s) => s.name))].join(', ') || 'none';
      const source = route.descriptorSetFile ?? route.protoFiles?.join(', ') ?? `upstream ${route.upstream}`;
      problems.push(`routes.${i}.service: ${route.service} matches no service ${source} describes (it has: ${known})`);
    }
    for (const service of matched) {
      taken.add(service.name);
      services.push({ service, route });
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  logger.info('routes discovered', {
    services: services.map((s) => `${s.service.name} -> ${s.route.upstream} (${s.service.methods.length} methods)`),
  });
  return { services, files: [...files.values()] };
}

/** Whether a route's services are described by its upstream's reflection (it names no descriptor set or proto files). */
export function usesReflection(route: RouteConfig): boolean {
  return route.descriptorSetFile === undefined && route.protoFiles === undefined;
}

/** Asks the upstream's endpoints in turn until one's reflection answers, with backoff, within its start timeout. */
async function reflectWithRetries(config: Config, name: string, routes: readonly RouteConfig[], logger: Logger): Promise<ReflectedApi> {
  const giveUpAt = Date.now() + config.upstreams[name]!.discovery.startTimeoutMs;
  let lastError: unknown;
  for (let attempt = 0; Date.now() < giveUpAt; attempt++) {
    try {
      return await askReflection(config, name, routes, Math.max(100, Math.min(5000, giveUpAt - Date.now())));
    } catch (error) {
      lastError = error;
    }
    if (attempt === 0) logger.warn('upstream reflection not answering yet; retrying', { upstream: name, error: describeFailure(lastError) });
    await sleep(Math.min(1000, 100 * 2 ** attempt, Math.max(0, giveUpAt - Date.now())));
  }
  throw new Error(describeFailure(lastError));
}

/**
 * One round of asking an upstream's reflection for the services `routes` cover: each endpoint in turn until one
 * answers, each within `timeoutMs`. Rejects with the last endpoint's error.
 */
export async function askReflection(config: Config, name: string, routes: readonly RouteConfig[], timeoutMs: number): Promise<ReflectedApi> {
  const upstream = config.upstreams[name]!;
  const settings = upstreamChannelSettings(upstream, { maxReceiveMessageBytes: 64 << 20, maxSendMessageBytes: 4 << 20 });
  const wanted = (listed: readonly string[]) => listed.filter((s) => !isInfrastructureService(s) && routes.some((r) => routeCovers(r.service, s)));
  let lastError: unknown;
  for (const target of upstream.targets) {
    const client = new grpc.Client(target, settings.credentials, settings.options);
    try {
      return await reflectUpstream(client, wanted, timeoutMs);
    } catch (error) {
      lastError = error;
    } finally {
      client.close();
    }
  }
  throw lastError;
}

/** A grpc-js error without the addresses grpc-js puts in its texts: only the code name. */
export function describeFailure(error: unknown): string {
  const code = (error as Partial<grpc.ServiceError> | undefined)?.code;
  if (typeof code === 'number') return `last answer: ${grpc.status[code]}`;
  return error instanceof Error ? error.message : 'no answer';
}
