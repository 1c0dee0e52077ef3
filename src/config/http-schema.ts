import { z } from 'zod';

/**
 * The `http` config section: the web listener (src/web/) serving HTTP/JSON,
 * gRPC-Web and the browser console, HTTP/1.1 and HTTP/2, with the same TLS
 * mode, certificates and interceptor chain as the gRPC listener.
 */
export const HttpSchema = z
  .strictObject({
    /** Serve the web listener at all. Default off. */
    enabled: z.boolean().default(false),
    /** Interface to bind. Default all interfaces. */
    host: z.string().min(1).default('0.0.0.0'),
    /** TCP port; 0 picks a free one (tests). Default 8443. */
    port: z.number().int().min(0).max(65535).default(8443),
    /**
     * Browser origins allowed to call across origins (CORS), exactly as browsers send them, e.g.
     * `https://console.example.com`; `*` allows any origin. Default none: cross-origin calls are refused.
     */
    corsOrigins: z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'an origin like https://host:port, or *')).default([]),
    /** Largest request body, in bytes, before decoding (JSON carries audio as base64, a third larger). Default 24 MiB. */
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(24 * 1024 * 1024),
    /** Serve the browser console's static files at `/`. Default on (when the listener is). */
    console: z.boolean().default(true),
    /** How long a request body (not a streamed one) may take to arrive, in ms; then 408. 0 = no limit. Default 30000. */
    requestTimeoutMs: z.number().int().min(0).default(30_000),
  })
  .prefault({});
