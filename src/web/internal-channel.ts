import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import http2, { type ClientHttp2Session, type Http2Server, type ServerHttp2Session } from 'node:http2';
import { duplexPair } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import { hookHttp2Servers } from '../../interceptors/grpc-compat.js';
import type { ForwardedCertificates } from '../../interceptors/peer-cache.js';

/**
 * Request header that names the web caller's verified client certificate on
 * an internal connection. Only internal connections may carry it: the HTTP/2
 * hooks of the gRPC server (src/auth/http2-hooks.ts) delete it from every
 * other connection's requests before grpc-js reads them, and the web front
 * end drops it from what a caller sends.
 */
export const FORWARDED_PEER_HEADER = 'gatehouse-forwarded-peer';

/** Who is behind an external connection, as the web listener verified it. */
export interface ExternalPeer {
  /** The client certificate Node's TLS verified against the client CA; absent without one. */
  certificate?: PeerCertificate;
}

/** An internal HTTP/2 connection into the gRPC server, on behalf of one external connection. */
export interface InternalConnection {
  readonly session: ClientHttp2Session;
  /** Value of {@link FORWARDED_PEER_HEADER} for this connection's calls; undefined without a certificate. */
  readonly peerId: string | undefined;
}

/** In-memory connections from the web listener into the gRPC server, where every call meets the whole chain. */
export interface InternalChannel extends ForwardedCertificates {
  /** Opens the internal connection of an external one; it closes with {@link InternalConnection.session}. */
  open(peer: ExternalPeer): InternalConnection;
  /** Whether a server-side session is one of ours (the only ones whose {@link FORWARDED_PEER_HEADER} counts). */
  isInternal(session: ServerHttp2Session): boolean;
  /** Closes every internal connection and the injector. */
  close(): void;
}

/**
 * Injects in-memory HTTP/2 connections into the real grpc-js server through
 * its public `createConnectionInjector`, so a web request becomes a real gRPC
 * call that passes the same fused interceptor chain (identity, token, policy,
 * deadline, rate limit, metrics, access log, trace) before any service sees
 * it. The injector's HTTP/2 server gets the same hooks and connection limits
 * as the listening ones (it is made on the first connection, after the
 * gateway installed them). One internal connection
 * per external connection keeps per-connection limits (concurrent streams)
 * per caller.
 */
export function createInternalChannel(serverOf: () => grpc.Server): InternalChannel {
  // Made on first use, by when the server's HTTP/2 hooks and limits are installed (they apply to the injector's server too).
  let injector: ReturnType<grpc.Server['createConnectionInjector']> | undefined;
  // Sessions of the injector's HTTP/2 server: it is the one grpc-js creates inside createConnectionInjector.
  const internalSessions = new WeakSet<ServerHttp2Session>();
  let capturing = false;
  const makeInjector = () => {
    const server = serverOf();
    hookHttp2Servers(server, {
      onServer(http2Server: Http2Server) {
        if (capturing) http2Server.prependListener('session', (session: ServerHttp2Session) => internalSessions.add(session));
      },
    });
    capturing = true;
    try {
      return server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    } finally {
      capturing = false;
    }
  };
  const certificates = new Map<string, PeerCertificate>();
  const sessions = new Set<ClientHttp2Session>();
  return {
    header: FORWARDED_PEER_HEADER,
    certificateOf: (id) => certificates.get(id),
    isInternal: (session) => internalSessions.has(session),
    open(peer) {
      const [clientEnd, serverEnd] = duplexPair();
      injector ??= makeInjector();
      injector.injectConnection(serverEnd);
      const session = http2.connect('http://gatehouse.internal', { createConnection: () => clientEnd });
      // Unguessable, and only ever honoured on these connections; removed when the connection ends.
      const peerId = peer.certificate === undefined ? undefined : randomBytes(16).toString('base64url');
      if (peerId !== undefined) certificates.set(peerId, peer.certificate!);
      sessions.add(session);
      session.on('error', () => {}); // surfaced on each stream; an idle internal session has no one to tell
      session.once('close', () => {
        sessions.delete(session);
        if (peerId !== undefined) certificates.delete(peerId);
        serverEnd.destroy();
      });
      return { session, peerId };
    },
    close() {
      for (const session of sessions) session.destroy();
      injector?.destroy();
    },
  };
}

/** An internal call's stream ends without a status only when the gRPC server cut it: it is draining or stopping. */
export const INTERNAL_EXCHANGE = { lostMessage: 'the gateway is shutting down; retry' } as const;
