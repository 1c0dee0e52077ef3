import type { OutgoingHttpHeaders } from 'node:http2';
import { grpcTimeoutOf } from './deadline-header.js';
import { FORWARDED_PEER_HEADER, type InternalConnection } from './internal-channel.js';
import type { WebRequest } from './read-body.js';

/** Request headers that mean the same to HTTP/JSON callers as to gRPC ones, passed on as call metadata. */
const PASSED_ON = ['traceparent', 'tracestate'] as const;

/**
 * The metadata of the gRPC call a JSON request becomes: its bearer token(s),
 * deadline, trace context, and the forwarded certificate id. Every
 * `authorization` header counts, from the raw list (Node keeps only the
 * first in `headers`), so two tokens reach the chain and are refused there
 * as on the gRPC listener.
 */
export function jsonCallHeaders(req: WebRequest, connection: InternalConnection, path: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':path': path };
  const tokens = everyValue(req.rawHeaders, 'authorization');
  if (tokens.length > 0) (headers as Record<string, string | string[]>).authorization = tokens.length === 1 ? tokens[0]! : tokens;
  const timeout = grpcTimeoutOf(req);
  if (timeout !== undefined) headers['grpc-timeout'] = timeout;
  for (const name of PASSED_ON) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  if (connection.peerId !== undefined) headers[FORWARDED_PEER_HEADER] = connection.peerId;
  return headers;
}

/** Headers of a gRPC-Web request that are HTTP plumbing, CORS or browser state rather than call metadata. */
const NOT_METADATA = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-type',
  'te',
  'accept',
  'accept-encoding',
  'accept-language',
  'origin',
  'referer',
  'cookie',
  'x-grpc-web',
  'x-user-agent',
  'sec-fetch-site',
  'sec-fetch-mode',
  'sec-fetch-dest',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'pragma',
  'cache-control',
  'priority',
  'timeout',
  'dnt',
  FORWARDED_PEER_HEADER,
]);

/**
 * The metadata of a gRPC-Web call: every header the caller sent as metadata
 * (custom metadata included, repeated ones kept), less HTTP plumbing and
 * browser state, and never a caller's own forwarded-certificate header.
 */
export function grpcWebCallHeaders(req: WebRequest, connection: InternalConnection, path: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':path': path };
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.startsWith(':') || NOT_METADATA.has(name)) continue;
    const existing = headers[name];
    headers[name] = existing === undefined ? raw[i + 1]! : [...(Array.isArray(existing) ? existing : [String(existing)]), raw[i + 1]!];
  }
  const timeout = grpcTimeoutOf(req);
  if (timeout !== undefined) headers['grpc-timeout'] = timeout;
  if (connection.peerId !== undefined) headers[FORWARDED_PEER_HEADER] = connection.peerId;
  return headers;
}

function everyValue(rawHeaders: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === name) values.push(rawHeaders[i + 1]!);
  }
  return values;
}
