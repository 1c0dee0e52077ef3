import { trace, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { OTLPTraceExporter as OTLPTraceExporterClass } from '@opentelemetry/exporter-trace-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkTrace from '@opentelemetry/sdk-trace';
import type { Sampler, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { createRequire } from 'node:module';
import type { TracingConfig } from '../config/tracing-schema.js';

/**
 * The SDK, the OTLP exporter and resource detection are loaded only when tracing is on: together they are about a
 * third of the gateway's module loading time, and most processes never export a span. `require` keeps
 * `createTelemetry` synchronous; the packages ship CommonJS builds for it.
 */
const require = createRequire(import.meta.url);
function sdk(): { trace: typeof SdkTrace; resources: typeof Resources; OTLPTraceExporter: typeof OTLPTraceExporterClass } {
  return {
    trace: require('@opentelemetry/sdk-trace') as typeof SdkTrace,
    resources: require('@opentelemetry/resources') as typeof Resources,
    OTLPTraceExporter: (require('@opentelemetry/exporter-trace-otlp-http') as { OTLPTraceExporter: typeof OTLPTraceExporterClass }).OTLPTraceExporter,
  };
}

/** The name the server's spans are made under (the instrumentation scope). */
export const TRACER_NAME = 'gatehouse';

/** What the tracing interceptor needs, and how to flush on the way out. */
export interface Telemetry {
  /** Makes the server spans: the SDK's when it runs, else the API's no-op tracer. */
  readonly tracer: Tracer;
  /** W3C Trace Context: reads `traceparent`/`tracestate` even without the SDK, so incoming trace ids reach the logs. */
  readonly propagator: TextMapPropagator;
  /** Whether a real SDK runs (spans are recorded and exported). */
  readonly sdkEnabled: boolean;
  /** Exports what is buffered and stops; resolves within `timeoutMs` (default 5000) even if the collector is away. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Options for {@link createTelemetry}. */
export interface TelemetryOptions {
  /** The `tracing` config section. */
  config: TracingConfig;
  /** The process environment (OTEL_* variables); passed in so tests control it. */
  env: Readonly<Record<string, string | undefined>>;
  /** Export to these processors instead of what OTEL_* says (tests: an in-memory exporter). Turns the SDK on. */
  spanProcessors?: SpanProcessor[];
}

/**
 * Starts the OpenTelemetry SDK when config and the standard OTEL_* environment
 * ask for it, and nothing otherwise. The SDK's tracer provider is handed to the
 * interceptor, not registered globally: no module-level state.
 *
 * Environment read here: OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER
 * (`otlp`|`console`|`none`), OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG.
 * The OTLP/HTTP exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers,
 * timeout) and the resource detector OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES themselves.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const propagator = new W3CTraceContextPropagator();
  const { config, env } = options;
  if (!options.spanProcessors && !sdkWanted(config, env)) {
    return { tracer: trace.getTracer(TRACER_NAME), propagator, sdkEnabled: false, shutdown: async () => undefined };
  }
  const { trace: sdkTrace, resources } = sdk();
  const processors = options.spanProcessors ?? exportersFromEnv(env).map((exporter) => new sdkTrace.BatchSpanProcessor({ exporter }));
  const resource = resources
    .resourceFromAttributes({ 'service.name': config.serviceName })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new sdkTrace.TracerProvider({ resource, sampler: samplerFromEnv(env), spanProcessors: processors });
  return {
    tracer: provider.getTracer(TRACER_NAME),
    propagator,
    sdkEnabled: true,
    async shutdown(timeoutMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        provider.shutdown().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

/** Whether the environment says where spans should go, and config allows it. */
export function sdkWanted(config: TracingConfig, env: Readonly<Record<string, string | undefined>>): boolean {
  if (config.mode === 'off') return false;
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  if (config.mode === 'on') return true;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  if (exporters === 'none') return false;
  return exporters !== '' || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT) || Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

function exportersFromEnv(env: Readonly<Record<string, string | undefined>>): SpanExporter[] {
  const { trace: sdkTrace, OTLPTraceExporter } = sdk();
  const exporters: SpanExporter[] = [];
  for (const name of (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((n) => n.trim().toLowerCase())) {
    if (name === 'console') exporters.push(new sdkTrace.ConsoleSpanExporter());
    else if (name === 'otlp') exporters.push(new OTLPTraceExporter());
  }
  return exporters;
}

/** OTEL_TRACES_SAMPLER as the specification names them; default `parentbased_always_on`. */
function samplerFromEnv(env: Readonly<Record<string, string | undefined>>): Sampler {
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = sdk().trace;
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  const safeRatio = Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1;
  switch ((env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase()) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(safeRatio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(safeRatio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
