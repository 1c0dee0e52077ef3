import { Metadata } from '@grpc/grpc-js';
import type { Span } from '@opentelemetry/api';
import type { CallState } from '../../interceptors/call-state.js';

/** Header carrying the verified client certificate identity to upstreams. Only the gateway sets it. */
export const IDENTITY_HEADER = 'x-gatehouse-identity';
/** Header carrying the verified token's `sub` to upstreams. Only the gateway sets it. */
export const SUBJECT_HEADER = 'x-gatehouse-subject';

/** HTTP/1.1 hop-by-hop headers (RFC 9110 section 7.6.1) and HTTP/2's `te`: never passed on in either direction. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * Request headers never forwarded: the caller's credential, HTTP/2 hop-by-hop
 * headers, and what grpc-js writes itself for the upstream call (deadline,
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
 * The upstream request's headers: the caller's, without its credential or
 * hop-by-hop headers and without any `x-gatehouse-*` header it sent, plus the
 * verified identity and subject the chain established. With a recording span,
 * `traceparent` names the gateway's span, so the upstream's span is its child.
 */
export function upstreamRequestMetadata(incoming: Metadata, state: CallState | undefined, traceparent: string | undefined): Metadata {
  const out = new Metadata();
  const all = incoming.toJSON();
  for (const key in all) {
    if (REQUEST_DROPPED.has(key) || key.startsWith('x-gatehouse-') || (traceparent !== undefined && key === 'traceparent')) continue;
    for (const value of all[key]!) out.add(key, value);
  }
  const identity = state?.peer?.identity;
  if (identity !== undefined) out.set(IDENTITY_HEADER, identity);
  const subject = state?.principal?.subject;
  if (subject !== undefined) out.set(SUBJECT_HEADER, subject);
  if (traceparent !== undefined) out.set('traceparent', traceparent);
  return out;
}

/** Response headers or trailers from the upstream, as the client may get them (in place: the object is the gateway's). */
export function clientResponseMetadata(fromUpstream: Metadata): Metadata {
  const all = fromUpstream.toJSON();
  for (const key in all) if (RESPONSE_DROPPED.has(key)) fromUpstream.remove(key);
  return fromUpstream;
}

/** The W3C traceparent of the gateway's recording span, so the upstream's span becomes its child; undefined without one. */
export function traceparentOf(state: CallState | undefined): string | undefined {
  const span = (state as { span?: Span } | undefined)?.span;
  if (span === undefined) return undefined;
  const context = span.spanContext();
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
