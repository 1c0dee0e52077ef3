import { z } from 'zod';
import { StorageSchema } from './storage-schema.js';
import { AuthSchema } from './auth-schema.js';
import { PolicySchema } from './policy-schema.js';
import { AccessLogLevelsSchema } from './access-log-schema.js';
import { DeadlinesSchema } from './deadlines-schema.js';
import { RateLimitsSchema } from './rate-limits-schema.js';
import { TracingSchema } from './tracing-schema.js';
import { RoutesSchema, UpstreamsSchema } from './upstream-schema.js';
import { HttpSchema } from './http-schema.js';
import { SttConfigSchema } from '../services/stt/stt-config.js';
import { TtsConfigSchema } from '../services/tts/tts-config.js';
import { CHEESE_TYPES } from '../services/cheese/cheese-types.js';

const port = z.number().int().min(0).max(65535);
const host = z.string().min(1);

/** The main gRPC listener. */
const ServerSchema = z
  .strictObject({
    /** Interface to bind. Default all interfaces. */
    host: host.default('0.0.0.0'),
    /** mTLS gRPC port; 0 picks a free one (tests). Default 50051. */
    port: port.default(50051),
    tls: z
      .strictObject({
        /** `mtls` requires a client certificate signed by clientCaFile; `tls` encrypts only; `insecure` is plaintext for development. */
        mode: z.enum(['mtls', 'tls', 'insecure']).default('mtls'),
        /** PEM server certificate chain. */
        certFile: z.string().default('certs/dev/server.crt'),
        /** PEM private key of the server certificate. */
        keyFile: z.string().default('certs/dev/server.key'),
        /** PEM CA bundle that client certificates must chain to (mtls). */
        clientCaFile: z.string().default('certs/dev/ca.crt'),
        /** Make the development CA and certificates on start when certFile is missing. Off in production. */
        generateDevCertificates: z.boolean().default(true),
        /** How often certFile, keyFile and clientCaFile are checked for changes, in ms; a changed set that checks out serves new connections, a broken one is refused (src/tls/reloading-credentials.ts). 0 turns reloading off. Default 10000. */
        reloadIntervalMs: z.number().int().min(0).default(10_000),
      })
      .prefault({}),
    /** Largest request message accepted, in bytes (audio uploads). Default 16 MiB; grpc-js's own default is 4 MiB. */
    maxReceiveMessageBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024),
    /** Largest reply message, in bytes. Default 32 MiB (a long synthesis in one reply). */
    maxSendMessageBytes: z
      .number()
      .int()
      .min(1024)
      .default(32 * 1024 * 1024),
    /**
     * Close client connections after this long, in ms (with maxConnectionAgeGraceMs for their calls to finish),
     * so clients balancing over DNS (headless Service) re-resolve and spread onto new pods. Default 300000; 0 = never.
     */
    maxConnectionAgeMs: z.number().int().min(0).default(300_000),
    /** How long calls on a connection past its age may still run, in ms. Default 30000. */
    maxConnectionAgeGraceMs: z.number().int().min(0).default(30_000),
    /** Processes serving the ports (`serve --workers N`); 0 means one per CPU core. 1 runs no cluster at all. */
    workers: z.number().int().min(0).max(64).default(0),
    /** How long in-flight calls may run after SIGTERM before their streams are cancelled, in ms. Default 10000. */
    shutdownGraceMs: z.number().int().min(0).default(10_000),
    /** How long a client may take for the TLS handshake, counted from its connection, in seconds; then it is closed. 0 = no limit. Default 10. */
    handshakeTimeoutSec: z.number().min(0).default(10),
    /** How long a connection may take to send the HTTP/2 preface once it is set up, in seconds; then it is closed. 0 = no limit. Default 10. */
    prefaceTimeoutSec: z.number().min(0).default(10),
    /**
     * Most connections open at once from one client address, on each gRPC listener; more are closed at once.
     * Behind a proxy or NAT every client shares the proxy's address: raise it there. 0 = unlimited. Default 128.
     */
    maxConnectionsPerAddress: z.number().int().min(0).default(128),
    /** Most request metadata entries (headers) per call; more get RESOURCE_EXHAUSTED naming the limit. Default 100. */
    maxMetadataEntries: z.number().int().min(1).default(100),
    /** Most request metadata bytes (names plus values) per call; more get RESOURCE_EXHAUSTED naming the limit. Default 16384 (room for an 8 KiB token). */
    maxMetadataBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024),
  })
  .prefault({});

/** The plaintext, health-only gRPC listener for Kubernetes probes. */
const HealthListenerSchema = z
  .strictObject({
    /** Off only where no orchestrator probes. Default on. */
    enabled: z.boolean().default(true),
    host: host.default('0.0.0.0'),
    /** Default 8081. */
    port: port.default(8081),
  })
  .prefault({});

/** The admin HTTP listener: /metrics, /healthz, /readyz. */
const AdminSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: host.default('0.0.0.0'),
    /** Default 9464 (the OpenTelemetry Prometheus exporter's). */
    port: port.default(9464),
    /**
     * With `--workers N`, how long a /metrics scrape waits for the workers, in ms; one that has not answered by then
     * is counted from its last answer (counters only). Keep it under Prometheus's scrape_timeout. Default 2000.
     */
    workerMetricsTimeoutMs: z.number().int().min(50).default(2000),
  })
  .prefault({});

/** CheeseService. */
const CheeseSchema = z
  .strictObject({
    /**
     * Wheels in stock per type at first start; orders draw them down. Missing types have none. Types are the
     * proto's enum (proto/cheesefarm/v1/cheese.proto). Default 1000 of every type.
     */
    stock: z.partialRecord(z.enum(CHEESE_TYPES), z.number().int().min(0)).default(() => Object.fromEntries(CHEESE_TYPES.map((type) => [type, 1000]))),
  })
  .prefault({});

/** Logging. */
const LoggingSchema = z
  .strictObject({
    /** Lowest level written: debug, info, warn, error, silent. Default info. */
    level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    /** One JSON line per call. Default on. */
    accessLog: z.boolean().default(true),
    /** Access line level per status code, e.g. `{ OK: debug }` (src/config/access-log-schema.ts). */
    accessLogLevels: AccessLogLevelsSchema,
  })
  .prefault({});

/** The whole configuration; every field has a documented default. */
export const ConfigSchema = z
  .strictObject({
    server: ServerSchema,
    health: HealthListenerSchema,
    admin: AdminSchema,
    /** The web listener: HTTP/JSON, gRPC-Web and the browser console; off by default (src/config/http-schema.ts). */
    http: HttpSchema,
    /** Where orders live: SQLite (default) or PostgreSQL (src/config/storage-schema.ts). */
    storage: StorageSchema,
    cheese: CheeseSchema,
    logging: LoggingSchema,
    /** TextToSpeech: engines, worker pools, limits, template cache (src/services/tts/tts-config.ts). */
    tts: TtsConfigSchema,
    /** SpeechToText: PocketSphinx decoder pool, queue and audio limits (src/services/stt/stt-config.ts). */
    stt: SttConfigSchema,
    /** Bearer tokens and certificate identity (src/config/auth-schema.ts). */
    auth: AuthSchema,
    /** Per-method access policy (src/config/policy-schema.ts, config/policy.yaml). */
    policy: PolicySchema,
    /** Per-method deadline policy (src/config/deadlines-schema.ts). */
    deadlines: DeadlinesSchema,
    /** Token buckets per caller and method, concurrent streams per connection (src/config/rate-limits-schema.ts). */
    rateLimits: RateLimitsSchema,
    /** OpenTelemetry SDK from OTEL_* environment (src/config/tracing-schema.ts). */
    tracing: TracingSchema,
    /** Upstream clusters that routed services are forwarded to (src/config/upstream-schema.ts). Default none. */
    upstreams: UpstreamsSchema,
    /** Services routed to upstreams, first match wins (src/config/upstream-schema.ts, src/upstream/). Default none. */
    routes: RoutesSchema,
  })
  .superRefine((config, ctx) => {
    config.routes.forEach((route, i) => {
      if (!Object.hasOwn(config.upstreams, route.upstream)) {
        const known = Object.keys(config.upstreams).join(', ') || 'none';
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'upstream'], message: `no upstream named ${route.upstream} (upstreams: ${known})` });
      }
    });
  });

/** Validated, frozen configuration. */
export type Config = z.infer<typeof ConfigSchema>;
