import { Metadata } from '@grpc/grpc-js';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { Span } from '@opentelemetry/api';
import type { CallState } from '../../interceptors/call-state.js';

/** Header carrying the verified client certificate identity to upstreams. Only the gateway sets it. */
export const IDENTITY_HEADER = 'x-gatehouse-identity';
/** Header carrying the verified token's `sub` to upstreams. Only the gateway sets it. */
export const SUBJECT_HEADER = 'x-gatehouse-subject';

/** What upstreams see as the caller's software. */
const USER_AGENT = 'gatehouse';
const COLON = 0x3a;

/** HTTP/1.1 hop-by-hop headers (RFC 9110 section 7.6.1) and HTTP/2's `te`: never passed on in either direction. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * Request headers never forwarded: the caller's credential, HTTP/2 hop-by-hop
 * headers, and what the forwarder writes itself for the upstream call (deadline,
 * encodings, content type, user agent, authority).
 */
const REQUEST_DROPPED = new Set([
  'authorization',
  'proxy-authorization',
  ...HOP_BY_HOP,
  'host',
  'content-type',
  'content-length',
  'user-agent',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'accept-encoding',
]);

/** Response headers and trailers never passed back: hop-by-hop, and what the gateway's own listener writes. */
const RESPONSE_DROPPED = new Set([
  ...HOP_BY_HOP,
  'content-type',
  'content-length',
  'date',
  'server',
  'grpc-status',
  'grpc-message',
  'grpc-encoding',
  'grpc-accept-encoding',
]);

/**
 * The upstream request's headers: the caller's metadata, without its
 * credential or hop-by-hop headers and without any `x-gatehouse-*` header it
 * sent, plus the verified identity and subject the chain established. With a
 * recording span, `traceparent` names the gateway's span, so the upstream's
 * span is its child. Pseudo-headers and the deadline are the caller's to add.
 */
export function upstreamRequestHeaders(incoming: Metadata, state: CallState | undefined, traceparent: string | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { 'user-agent': USER_AGENT, 'grpc-accept-encoding': 'identity' };
  // toHttp2Headers is grpc-js's public wire form of metadata: binary values base64, repeated keys as arrays.
  const all = incoming.toHttp2Headers();
  for (const key in all) {
    if (REQUEST_DROPPED.has(key) || key.startsWith('x-gatehouse-') || (traceparent !== undefined && key === 'traceparent')) continue;
    out[key] = all[key];
  }
  const identity = state?.peer?.identity;
  if (identity !== undefined) out[IDENTITY_HEADER] = identity;
  const subject = state?.principal?.subject;
  if (subject !== undefined) out[SUBJECT_HEADER] = subject;
  if (traceparent !== undefined) out.traceparent = traceparent;
  return out;
}

/**
 * Response headers or trailers from the upstream as the metadata the client
 * gets: pseudo-headers, hop-by-hop headers and what the gateway's own listener
 * writes are left out; `-bin` values are decoded from base64 (the listener
 * encodes them again). A header grpc-js would refuse to send is dropped.
 */
export function clientResponseMetadata(fromUpstream: IncomingHttpHeaders): Metadata {
  const out = new Metadata();
  for (const key in fromUpstream) {
    const value = fromUpstream[key];
    if (value === undefined || key.charCodeAt(0) === COLON || RESPONSE_DROPPED.has(key)) continue;
    try {
      for (const one of typeof value === 'string' ? [value] : value) {
        if (!key.endsWith('-bin')) out.add(key, one);
        else for (const part of one.split(',')) out.add(key, Buffer.from(part.trim(), 'base64'));
      }
    } catch {
      // Metadata.add throws on a key or value gRPC does not allow; the rest of the reply still passes.
    }
  }
  return out;
}

/** The W3C traceparent of the gateway's recording span, so the upstream's span becomes its child; undefined without one. */
export function traceparentOf(state: CallState | undefined): string | undefined {
  const span = (state as { span?: Span } | undefined)?.span;
  if (span === undefined) return undefined;
  const context = span.spanContext();
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
