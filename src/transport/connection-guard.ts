import type { Http2SecureServer, Http2Server, ServerHttp2Session } from 'node:http2';
import { Socket as NetSocket, type Socket } from 'node:net';
import { Counter, type Registry } from 'prom-client';

/** Why the guard closed a connection: the `reason` label of `gatehouse_connections_closed_total`. */
export type ConnectionCloseReason = 'handshake_timeout' | 'preface_timeout' | 'per_address_limit';

/** Options for {@link guardConnections}. */
export interface ConnectionGuardOptions {
  /** Most connections open at once from one remote address; more are closed at once. 0 = unlimited. */
  maxConnectionsPerAddress: number;
  /** How long a TLS handshake may take from the first byte of the connection, in seconds (TLS servers only). 0 = no limit. */
  handshakeTimeoutSec: number;
  /** How long a new HTTP/2 session may take to send its connection preface (the client's SETTINGS), in seconds. 0 = no limit. */
  prefaceTimeoutSec: number;
  /** Registry for `gatehouse_connections_closed_total{reason}`; omitted, nothing is counted. */
  registry?: Registry;
}

/** Counter name, used by dashboards. */
export const CONNECTIONS_CLOSED_METRIC = 'gatehouse_connections_closed_total';

/**
 * Bounds what a connection that never carries a call can hold, with Node's
 * public server events only:
 *
 * - a cap on connections open at once per remote address, counted on the raw
 *   socket, before TLS, so handshakes that never finish count too;
 * - an absolute TLS handshake deadline (Node's own `handshakeTimeout` is an
 *   idle timeout, which a client trickling one byte at a time never trips);
 * - a deadline for the HTTP/2 connection preface once the session exists.
 *
 * The raw socket and the session's socket are matched by remote address and
 * port (one TCP connection has one pair). Everything kept here lives only as
 * long as its connection: memory follows open connections, not history.
 */
export function guardConnections(server: Http2Server | Http2SecureServer, options: ConnectionGuardOptions): void {
  const closed = closedCounter(options.registry);
  const max = options.maxConnectionsPerAddress;
  const handshakeMs = 'setSecureContext' in server ? options.handshakeTimeoutSec * 1000 : 0;
  const prefaceMs = options.prefaceTimeoutSec * 1000;
  const perAddress = new Map<string, number>();
  /** TLS connections still in their handshake, by "address port", with the timer that ends them. */
  const handshaking = new Map<string, NodeJS.Timeout>();

  server.prependListener('connection', (socket: Socket) => {
    // In-process connections (the web listener's into the gRPC server) are not TCP: the front end guards its own callers.
    if (!(socket instanceof NetSocket)) return;
    const address = socket.remoteAddress ?? '';
    if (max > 0) {
      const count = (perAddress.get(address) ?? 0) + 1;
      if (count > max) {
        closed?.inc({ reason: 'per_address_limit' });
        socket.destroy();
        return;
      }
      perAddress.set(address, count);
    }
    let key: string | undefined;
    if (handshakeMs > 0) {
      key = `${address} ${socket.remotePort}`;
      const connectionKey = key;
      handshaking.set(
        key,
        setTimeout(() => {
          handshaking.delete(connectionKey);
          closed?.inc({ reason: 'handshake_timeout' });
          socket.destroy();
        }, handshakeMs).unref(),
      );
    }
    socket.once('close', () => {
      if (key !== undefined) {
        clearTimeout(handshaking.get(key));
        handshaking.delete(key);
      }
      if (max > 0) {
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left > 0) perAddress.set(address, left);
        else perAddress.delete(address);
      }
    });
  });

  server.on('session', (session: ServerHttp2Session) => {
    // The session exists once TLS is done: the handshake deadline is met.
    if (handshakeMs > 0) {
      const key = `${session.socket.remoteAddress ?? ''} ${session.socket.remotePort}`;
      clearTimeout(handshaking.get(key));
      handshaking.delete(key);
    }
    if (prefaceMs <= 0) return;
    const timer = setTimeout(() => {
      closed?.inc({ reason: 'preface_timeout' });
      session.destroy();
    }, prefaceMs).unref();
    // The client's connection preface ends with its SETTINGS frame; a session that sent it is a real client.
    session.once('remoteSettings', () => clearTimeout(timer));
    session.once('close', () => clearTimeout(timer));
  });
}

function closedCounter(registry: Registry | undefined): Counter<'reason'> | undefined {
  if (registry === undefined) return undefined;
  const existing = registry.getSingleMetric(CONNECTIONS_CLOSED_METRIC) as Counter<'reason'> | undefined;
  if (existing) return existing;
  const counter = new Counter({
    name: CONNECTIONS_CLOSED_METRIC,
    help: 'Client connections the server closed before they carried a call: TLS handshake or HTTP/2 preface too slow, or too many from one address',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of ['handshake_timeout', 'preface_timeout', 'per_address_limit'] as const satisfies readonly ConnectionCloseReason[])
    counter.inc({ reason }, 0);
  return counter;
}
