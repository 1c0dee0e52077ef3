import { z } from 'zod';

/** The `tracing` config section (src/telemetry/). */
export const TracingSchema = z
  .strictObject({
    /**
     * `auto` (default) starts the OpenTelemetry SDK with an OTLP/HTTP exporter when
     * the standard OTEL_* environment says where to send spans
     * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
     * OTEL_TRACES_EXPORTER=otlp|console) and OTEL_SDK_DISABLED is not true;
     * `on` starts it regardless (OTLP to localhost:4318 unless OTEL_* says otherwise);
     * `off` never does. Without the SDK, spans cost next to nothing and incoming
     * trace ids still reach the logs.
     */
    mode: z.enum(['auto', 'on', 'off']).default('auto'),
    /** service.name of the spans when OTEL_SERVICE_NAME is not set. Default `gatehouse`. */
    serviceName: z.string().min(1).default('gatehouse'),
  })
  .prefault({});

/** The validated `tracing` section. */
export type TracingConfig = z.infer<typeof TracingSchema>;
