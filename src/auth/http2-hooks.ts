import type * as grpc from '@grpc/grpc-js';
import type { IncomingHttpHeaders, Http2Server, ServerHttp2Stream } from 'node:http2';
import type { PeerCertificate, TLSSocket } from 'node:tls';

type CreateHttp2Server = (credentials: grpc.ServerCredentials) => Http2Server;

/**
 * Adds two things to every HTTP/2 server grpc-js creates for `server`, by
 * wrapping grpc-js's (internal) `createHttp2Server`. Call before `bindAsync`.
 * Returns false when grpc-js no longer has that method (a grpc-js upgrade);
 * the security integration test then fails on the duplicate-header case.
 *
 * 1. Every `authorization` value reaches the call metadata. Node's HTTP/2
 *    server treats `authorization` as a single-value header: with two, its
 *    headers object keeps the first and silently drops the rest (only the raw
 *    list has them all), and grpc-js builds metadata from that object. Then
 *    no interceptor could refuse the request, and a proxy honouring the last
 *    value while we honour the first would disagree about who is calling.
 *    The values go back into the headers object as a list before grpc-js
 *    reads it, which grpc-js turns into repeated metadata.
 *
 * 2. The client certificate is read once per connection. grpc-js calls
 *    `getPeerCertificate()` for every call's auth context, and Node builds the
 *    whole object each time (subject, SANs, three fingerprints: ~13 us). A TLS
 *    connection's peer certificate cannot change (Node's HTTP/2 disables
 *    renegotiation), so the first result is kept on the socket and returned
 *    again; that also gives the authentication layer a stable object to cache
 *    the parsed identity on.
 */
export function hookHttp2Servers(server: grpc.Server): boolean {
  const target = server as unknown as { createHttp2Server?: CreateHttp2Server };
  const original = target.createHttp2Server;
  if (typeof original !== 'function') return false;
  target.createHttp2Server = function createHttp2Server(this: unknown, credentials) {
    const http2Server = original.call(this, credentials);
    http2Server.prependListener('stream', keepEveryAuthorizationValue);
    http2Server.on('secureConnection', memoizePeerCertificate);
    return http2Server;
  };
  return true;
}

function keepEveryAuthorizationValue(_stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void {
  let first = -1;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i] !== 'authorization') continue;
    if (first < 0) {
      first = i;
      continue;
    }
    const values: string[] = [];
    for (let j = first; j < rawHeaders.length; j += 2) if (rawHeaders[j] === 'authorization') values.push(rawHeaders[j + 1]!);
    (headers as Record<string, unknown>).authorization = values;
    return;
  }
}

function memoizePeerCertificate(socket: TLSSocket): void {
  const read = socket.getPeerCertificate;
  let summary: PeerCertificate | undefined;
  socket.getPeerCertificate = function getPeerCertificate(this: TLSSocket, detailed?: boolean) {
    if (detailed) return read.call(this, true);
    return (summary ??= read.call(this));
  } as TLSSocket['getPeerCertificate'];
}
