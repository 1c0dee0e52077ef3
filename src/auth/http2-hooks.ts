import type * as grpc from '@grpc/grpc-js';
import { constants as http2Constants, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { MAX_TIMER_MS } from '../../interceptors/deadline-queue.js';
import { GRPC_TIMEOUT_PATTERN, hookHttp2Servers, setHeaderValues } from '../../interceptors/grpc-compat.js';

/** What the gateway does to the HTTP/2 layer under grpc-js, and the switch that starts the drain there. */
export interface Http2Hooks {
  /** From now on, new connections get GOAWAY at once and new streams on old ones are refused (REFUSED_STREAM: UNAVAILABLE, safe to retry). */
  beginDrain(): void;
}

/** Options for {@link installHttp2Hooks}. */
export interface Http2HooksOptions {
  /** Paths still served while draining, so probes on this listener read NOT_SERVING until it closes. Default none. */
  servedWhileDraining?: (path: string) => boolean;
  /** Told every request's raw header list before grpc-js reads it (the chain's metadata limits). Default none. */
  measureHeaders?: (stream: ServerHttp2Stream, rawHeaders: readonly string[]) => void;
  /**
   * A request header only some sessions may send (the web listener's forwarded certificate, src/web/): it is
   * deleted from every request on any other session before grpc-js reads it. Default none.
   */
  trustedHeader?: { name: string; trusted(session: ServerHttp2Session): boolean };
}

/**
 * Installs the gateway's hooks on every HTTP/2 server grpc-js creates for
 * `server` (interceptors/grpc-compat.ts explains why this needs grpc-js
 * internals). Call before `bindAsync`. Returns undefined when grpc-js no
 * longer allows it (the compat contract test fails first).
 *
 * 1. Every `authorization` value counts. Node keeps only the first of repeated
 *    `authorization` headers in the headers object grpc-js reads, and grpc-js
 *    drops values it cannot store (a tab, for one), so a request with two
 *    could pass as the one that survived. They are counted on the raw header
 *    list; with more than one, all go into metadata (characters grpc-js would
 *    refuse replaced), so authentication refuses the request as TOKEN_DUPLICATE.
 * 2. `grpc-timeout` is clamped to 2^31 - 1 ms before grpc-js reads it: grpc-js
 *    computes its timer with `| 0`, so a deadline 25 days ahead would wrap
 *    negative and the call would count as already expired.
 * 3. The client certificate is read once per connection. grpc-js calls
 *    `getPeerCertificate()` for every call's auth context and Node builds the
 *    whole object each time (~13 us); a TLS connection's peer certificate
 *    cannot change (Node's HTTP/2 disables renegotiation), so the first result
 *    is kept, which also gives the peer cache a stable object per connection.
 * 4. The raw header list goes to `measureHeaders` (the metadata limits), which
 *    is cheaper than measuring the metadata grpc-js makes of it.
 * 5. Drain: `tryShutdown` closes only the sessions that exist when it is
 *    called; a connection whose handshake finishes a moment later would be
 *    served until the grace ends. From `beginDrain()` on, new sessions are
 *    closed at once (GOAWAY) and new streams refused.
 * 5. `trustedHeader`: a header only trusted sessions may send is removed from
 *    every other session's requests.
 */
export function installHttp2Hooks(server: grpc.Server, options: Http2HooksOptions = {}): Http2Hooks | undefined {
  let draining = false;
  const servedWhileDraining = options.servedWhileDraining ?? (() => false);
  const measureHeaders = options.measureHeaders;
  const trustedHeader = options.trustedHeader;
  const installed = hookHttp2Servers(server, {
    onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]) {
      if (draining && !servedWhileDraining(String(headers[':path']))) {
        // Closing marks the stream closed at once, so grpc-js's own handler, which runs next, serves nothing on it.
        stream.close(http2Constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      countEveryAuthorizationValue(headers, rawHeaders);
      clampGrpcTimeout(headers);
      measureHeaders?.(stream, rawHeaders);
      // 5. A header only internal connections may carry: anyone else's copy is dropped unread.
      if (trustedHeader !== undefined && headers[trustedHeader.name] !== undefined && !trustedHeader.trusted(stream.session as ServerHttp2Session)) {
        delete headers[trustedHeader.name];
      }
    },
    onServer(http2Server: Http2Server) {
      http2Server.on('secureConnection', memoizePeerCertificate);
      http2Server.on('session', (session: ServerHttp2Session) => {
        if (draining) session.close();
      });
    },
  });
  if (!installed) return undefined;
  return {
    beginDrain() {
      draining = true;
    },
  };
}

/** Characters grpc-js stores in a metadata value; anything else makes it drop the value. */
const STORABLE = /[^ -~]/g;

function countEveryAuthorizationValue(headers: IncomingHttpHeaders, rawHeaders: string[]): void {
  let first = -1;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i] !== 'authorization') continue;
    if (first < 0) {
      first = i;
      continue;
    }
    const values: string[] = [];
    for (let j = first; j < rawHeaders.length; j += 2) {
      // The request is refused for the duplicate; the replaced characters only keep grpc-js from dropping a value.
      if (rawHeaders[j] === 'authorization') values.push(rawHeaders[j + 1]!.replace(STORABLE, '?'));
    }
    setHeaderValues(headers, 'authorization', values);
    return;
  }
}

/** The largest `grpc-timeout` grpc-js can turn into a timer: 2147483 seconds (24.8 days). */
const CLAMPED_TIMEOUT = `${Math.floor(MAX_TIMER_MS / 1000)}S`;
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** Runs on every request: digits read by hand, the regex (grpc-js's own pattern) only for the rare long value. */
function clampGrpcTimeout(headers: IncomingHttpHeaders): void {
  const value = headers['grpc-timeout'];
  if (typeof value !== 'string') return;
  let amount = 0;
  let i = 0;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) break;
    amount = amount * 10 + (c - 48);
  }
  let unitMs: number | undefined = UNIT_MS[value.charAt(i)];
  if (i === value.length - 1 && i > 0 && i <= 8 && unitMs !== undefined) {
    if (amount * unitMs > MAX_TIMER_MS) headers['grpc-timeout'] = CLAMPED_TIMEOUT;
    return;
  }
  // Anything else (spaces, junk around it) as grpc-js reads it.
  const match = GRPC_TIMEOUT_PATTERN.exec(value);
  unitMs = match === null ? undefined : UNIT_MS[match[2]!];
  if (match !== null && unitMs !== undefined && Number(match[1]) * unitMs > MAX_TIMER_MS) headers['grpc-timeout'] = CLAMPED_TIMEOUT;
}

function memoizePeerCertificate(socket: TLSSocket): void {
  const read = socket.getPeerCertificate;
  let summary: PeerCertificate | undefined;
  socket.getPeerCertificate = function getPeerCertificate(this: TLSSocket, detailed?: boolean) {
    if (detailed) return read.call(this, true);
    return (summary ??= read.call(this));
  } as TLSSocket['getPeerCertificate'];
}
