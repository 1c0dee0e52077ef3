import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { UpstreamConfig } from '../config/upstream-schema.js';
import type { UpstreamTls } from './upstream-connection.js';

/** How grpc-js channels to one upstream are opened (server reflection at start): credentials and channel options, read once. */
export interface UpstreamChannelSettings {
  readonly credentials: grpc.ChannelCredentials;
  readonly options: grpc.ChannelOptions;
}

/** Options every upstream channel gets, whatever its TLS mode. */
export interface ChannelLimits {
  /** Largest reply accepted from the upstream, in bytes: what the gateway may send its own client. */
  maxReceiveMessageBytes: number;
  /** Largest request sent to the upstream, in bytes: what the gateway accepted from its client. */
  maxSendMessageBytes: number;
}

/**
 * The grpc-js channel that asks an upstream's server reflection (discovery at
 * start and its refreshes; routed calls and health checks use the raw HTTP/2
 * connections of upstream-connection.ts): credentials from the upstream's
 * `tls` section (files read now, so a missing file stops the start), message
 * limits, quick reconnects, no grpc-js retries or channelz, and round robin
 * over the addresses of a `dns:///` target.
 */
export function upstreamChannelSettings(upstream: UpstreamConfig, limits: ChannelLimits): UpstreamChannelSettings {
  const tls = upstream.tls;
  const read = (file: string | undefined) => (file === undefined ? null : readFileSync(file));
  const credentials =
    tls.mode === 'insecure'
      ? grpc.credentials.createInsecure()
      : grpc.credentials.createSsl(read(tls.caFile), tls.mode === 'mtls' ? read(tls.keyFile) : null, tls.mode === 'mtls' ? read(tls.certFile) : null);
  const options: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.max_send_message_length': limits.maxSendMessageBytes,
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': Math.max(1000, upstream.healthCheck.intervalMs),
    // The gateway retries by itself (per route, within a budget): grpc-js's own retry layer would only buffer
    // every request message for nothing. Channelz bookkeeping per call is not wanted either.
    'grpc.enable_retries': 0,
    'grpc.enable_channelz': 0,
    // Each endpoint gets its own channel; without this grpc-js would share one connection between them.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    ...(tls.serverName !== undefined ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {}),
  };
  return { credentials, options };
}

/**
 * The TLS of routed calls' raw HTTP/2 connections, from the same `tls` section (files read now, so a missing file
 * stops the start); undefined for plaintext. The certificate must name `serverName`, else the target's host name.
 */
export function upstreamTls(upstream: UpstreamConfig): UpstreamTls | undefined {
  const tls = upstream.tls;
  if (tls.mode === 'insecure') return undefined;
  return {
    ...(tls.caFile !== undefined ? { ca: readFileSync(tls.caFile) } : {}),
    ...(tls.mode === 'mtls' ? { cert: readFileSync(tls.certFile!), key: readFileSync(tls.keyFile!) } : {}),
    ...(tls.serverName !== undefined ? { servername: tls.serverName } : {}),
  };
}
