import { z } from 'zod';

/** `host:port`, `[v6]:port`, or one `dns:///name:port` target, resolved to one endpoint per address. */
const target = z
  .string()
  .regex(/^(dns:\/\/\/[^\s/]+:\d{1,5}|\[[0-9A-Fa-f:.]+\]:\d{1,5}|[A-Za-z0-9.-]+:\d{1,5})$/, 'a target is host:port, [ipv6]:port or dns:///name:port');

/** How the gateway connects to an upstream's endpoints. */
const UpstreamTlsSchema = z
  .strictObject({
    /** `insecure` is plaintext (same host or a trusted network); `tls` checks the upstream's certificate; `mtls` also presents one. Default insecure. */
    mode: z.enum(['insecure', 'tls', 'mtls']).default('insecure'),
    /** PEM CA bundle the upstream's certificate must chain to (tls, mtls). Default the system roots. */
    caFile: z.string().min(1).optional(),
    /** PEM client certificate the gateway presents (mtls). */
    certFile: z.string().min(1).optional(),
    /** PEM private key of certFile (mtls). */
    keyFile: z.string().min(1).optional(),
    /** Name the upstream's certificate must carry, when it differs from the target's host. */
    serverName: z.string().min(1).optional(),
  })
  .prefault({})
  .superRefine((tls, ctx) => {
    if (tls.mode === 'mtls' && (tls.certFile === undefined || tls.keyFile === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'mode mtls needs certFile and keyFile' });
    }
  });

/** Active health checks with grpc.health.v1 (Watch where the upstream has it, else Check). */
const HealthCheckSchema = z
  .strictObject({
    /** Off: every endpoint counts as healthy unless ejected. Default on. */
    enabled: z.boolean().default(true),
    /** The service name asked about; empty means the upstream as a whole. Default "". */
    service: z.string().default(''),
    /** Time between Check calls when the upstream has no Watch, and between attempts to re-open a broken Watch, in ms. Default 2000. */
    intervalMs: z.number().int().min(50).default(2000),
    /** Deadline of one Check call, in ms. Default 1000. */
    timeoutMs: z.number().int().min(10).default(1000),
  })
  .prefault({});

/** Passive ejection: an endpoint failing calls in a row is taken out of rotation for a while. */
const EjectionSchema = z
  .strictObject({
    /** Consecutive failed calls (UNAVAILABLE: connection refused or reset, or the upstream said so) that eject an endpoint. Default 3. */
    consecutiveFailures: z.number().int().min(1).default(3),
    /** How long an ejected endpoint stays out, in ms; it returns when the time is up and its health check passes. Default 10000. */
    durationMs: z.number().int().min(10).default(10_000),
  })
  .prefault({});

/** HTTP/2 PINGs that find an endpoint gone silent without closing its connection (a frozen process, a dropped route). */
const KeepaliveSchema = z
  .strictObject({
    /**
     * Ping each endpoint connection this often, in ms, and drop the connection when the ack is late: its calls
     * then fail UNAVAILABLE (idempotent ones are retried elsewhere) instead of waiting for their deadlines. The
     * upstream must permit pings this often: grpc-go and grpc-core servers by default close a connection pinged
     * more than once per 5 minutes. 0 = off. Default 0.
     */
    intervalMs: z.number().int().min(0).default(0),
    /** How long the ack of a ping may take before the connection is dropped, in ms. Default 20000. */
    timeoutMs: z.number().int().min(10).default(20_000),
  })
  .prefault({});

/** How method descriptions are found, when the route does not name a descriptor set. */
const DiscoverySchema = z
  .strictObject({
    /** How long start-up keeps asking the upstream's server reflection before giving up (the gateway then does not start), in ms. Default 15000. */
    startTimeoutMs: z.number().int().min(100).default(15_000),
    /** Time between reflection refreshes after start, in ms; a refresh that finds new or changed methods logs them (they are routed after a restart). 0 = never. Default 60000. */
    refreshIntervalMs: z.number().int().min(0).default(60_000),
  })
  .prefault({});

/** One upstream cluster. */
export const UpstreamSchema = z
  .strictObject({
    /** Endpoints, balanced round robin: `host:port` entries, or one `dns:///name:port` (resolved at start and every 30 s, one endpoint per address). */
    targets: z.array(target).min(1),
    tls: UpstreamTlsSchema,
    healthCheck: HealthCheckSchema,
    ejection: EjectionSchema,
    discovery: DiscoverySchema,
    keepalive: KeepaliveSchema,
    /** How long a connection attempt to an endpoint may take before a call to it fails, in ms. Default 2000. */
    connectTimeoutMs: z.number().int().min(10).default(2000),
  })
  .superRefine((upstream, ctx) => {
    if (upstream.targets.length > 1 && upstream.targets.some((t) => t.startsWith('dns:'))) {
      ctx.addIssue({
        code: 'custom',
        path: ['targets'],
        message: 'a dns:/// target must be the only target (its addresses are the endpoints)',
      });
    }
  });

/** Retries of one route's idempotent methods. */
const RetrySchema = z
  .strictObject({
    /** Methods safe to send twice (by name, `Order`; `*` for every method), of any kind: a request stream is replayed from what the gateway kept. Default none. */
    idempotentMethods: z.array(z.string().regex(/^(\*|[A-Za-z_][A-Za-z0-9_]*)$/, 'a method name, e.g. Order, or *')).default([]),
    /**
     * Request-stream bytes the gateway keeps per call so a retry can replay them (client-streaming and bidi
     * methods); a call that sends more is not retried once past it. Default 262144 (gRPC's own retry buffer).
     */
    maxReplayBytes: z.number().int().min(0).default(262_144),
    /** Most attempts per call, the first included. Default 3. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    /** Wait before the first retry, in ms; doubled per retry, with jitter. Default 25. */
    initialBackoffMs: z.number().int().min(0).default(25),
    /** Longest wait between attempts, in ms. Default 1000. */
    maxBackoffMs: z.number().int().min(0).default(1000),
    /** Retries allowed as a fraction of calls (a budget shared by the route's calls): 0.2 adds at most 20% extra calls. Default 0.2. */
    budgetRatio: z.number().min(0).max(1).default(0.2),
  })
  .prefault({});

/** `package.Service`, a bare `Service` (protobuf allows a file without package), or a package prefix `package.*`. */
const servicePattern = z
  .string()
  .regex(
    /^([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)(\.\*)?$/,
    'a full service name (cheesefarm.CheeseService, Search) or a package prefix (tinkoff.*)',
  );

/** One route: which services go to which upstream. */
export const RouteSchema = z
  .strictObject({
    /** A full service name, or a package prefix such as `tinkoff.*` (every service in that package and below). */
    service: servicePattern,
    /** A key of `upstreams`. */
    upstream: z.string().min(1),
    /**
     * A FileDescriptorSet (`protoc --include_imports --descriptor_set_out=FILE ...`) describing the services:
     * deterministic, no reflection needed. Default: ask the upstream's server reflection at start.
     */
    descriptorSetFile: z.string().min(1).optional(),
    /** `.proto` files describing the services, parsed at start (no protoc needed); an alternative to descriptorSetFile. */
    protoFiles: z.array(z.string().min(1)).min(1).optional(),
    /** Where imports of protoFiles are looked up, in order (then next to the importing file). Default none. */
    protoIncludeDirs: z.array(z.string().min(1)).default([]),
    retry: RetrySchema,
  })
  .superRefine((route, ctx) => {
    if (route.descriptorSetFile !== undefined && route.protoFiles !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['protoFiles'], message: 'name either descriptorSetFile or protoFiles, not both' });
    }
  });

/** `upstreams`: named clusters the routes send calls to. Default none. */
export const UpstreamsSchema = z
  .record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'an upstream name is lower case letters, digits, - and _'), UpstreamSchema)
  .default({});
/** `routes`: services routed to upstreams, checked in order (the first match wins). Default none. */
export const RoutesSchema = z.array(RouteSchema).default([]);

/** One validated upstream. */
export type UpstreamConfig = z.infer<typeof UpstreamSchema>;
/** One validated route. */
export type RouteConfig = z.infer<typeof RouteSchema>;
