import http2, { type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2';
import type { Socket } from 'node:net';

/** Where and how one upstream endpoint is reached. */
export interface UpstreamAddress {
  /** Host (name or IP) and port the socket connects to. */
  readonly host: string;
  readonly port: number;
  /** The `:authority` of calls: the target as configured (`name:port`), whatever address it resolved to. */
  readonly authority: string;
}

/** TLS of the connection; absent for plaintext (`tls.mode: insecure`). */
export type UpstreamTls = Pick<SecureClientSessionOptions, 'ca' | 'cert' | 'key' | 'servername'>;

/** Options for {@link createUpstreamConnection}. */
export interface UpstreamConnectionOptions {
  address: UpstreamAddress;
  tls: UpstreamTls | undefined;
  /** A connection not made within this time fails its calls, in ms. */
  connectTimeoutMs: number;
  /** After a failed connection attempt, calls fail at once for this long before the next attempt; doubled per failure up to max. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** PING the connection this often (0: never) and drop it when the ack takes longer than keepaliveTimeoutMs. */
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
}

/** The one HTTP/2 connection of an upstream endpoint, made when first needed and again after it is lost. */
export interface UpstreamConnection {
  /**
   * The session to open a call's stream on: the live one, or a new attempt. Undefined while backing off after a
   * failed attempt (a call then fails at once instead of waiting for a connection that just failed).
   */
  session(): ClientHttp2Session | undefined;
  /** The last attempt failed and no session works. */
  readonly failing: boolean;
  /** Calls may be sent here: not failing, and not replacing a session it lost (GOAWAY, socket gone). */
  readonly usable: boolean;
  /** `:authority` of calls on it. */
  readonly authority: string;
  /** `http` or `https`. */
  readonly scheme: string;
  /** Closes the session; calls in flight end UNAVAILABLE. No new session is made afterwards. */
  close(): void;
}

/** Stream ids are 31 bits and odd for a client: a session is replaced well before it runs out. */
const STREAMS_PER_SESSION = 1 << 29;

/**
 * A raw HTTP/2 connection to one upstream address, the transport of routed
 * calls and health checks. One session carries every call (HTTP/2
 * multiplexes; the upstream's SETTINGS_MAX_CONCURRENT_STREAMS queues the
 * excess in nghttp2). Streams in flight on a session that received GOAWAY
 * finish there. A session that received GOAWAY or lost its socket is
 * replaced at once, and the endpoint is not {@link UpstreamConnection.usable}
 * until the new one connects: an upstream restarting (a rolling update)
 * gets no calls meanwhile. A failed attempt is retried after a backoff
 * (doubling up to `maxBackoffMs`) whether or not calls or health checks ask.
 */
export function createUpstreamConnection(options: UpstreamConnectionOptions): UpstreamConnection {
  const { address, tls } = options;
  const scheme = tls === undefined ? 'http' : 'https';
  const url = `${scheme}://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  let current: ClientHttp2Session | undefined;
  let streamsOpened = 0;
  let failing = false;
  let replacing = false;
  let retryAt = 0;
  let backoffMs = options.initialBackoffMs;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;

  /** The next attempt, after `delayMs`; calls meanwhile go elsewhere. */
  const retryLater = (delayMs: number) => {
    retryAt = performance.now() + delayMs;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      if (!closed && current === undefined) current = connect();
    }, delayMs);
    retryTimer.unref();
  };

  const connect = (): ClientHttp2Session => {
    const session = http2.connect(url, {
      ...tls,
      // Replies arrive as the upstream sends them; a push promise would be a protocol error for gRPC.
      settings: { enablePush: false },
    });
    let connectedAt: number | undefined;
    const timer = setTimeout(() => session.destroy(new Error('connect timeout')), options.connectTimeoutMs);
    timer.unref();
    // The listener gets the real socket ('session.socket' is a proxy that refuses socket calls).
    session.once('connect', (_session: ClientHttp2Session, socket: Socket) => {
      connectedAt = performance.now();
      clearTimeout(timer);
      failing = false;
      replacing = false;
      // Small requests go out at once: the gateway is latency-bound, and Nagle's algorithm would hold them back.
      socket.setNoDelay(true);
      if (options.keepaliveIntervalMs > 0) keepAlive(session, options.keepaliveIntervalMs, options.keepaliveTimeoutMs);
    });
    /** The session stops taking calls: replace it, at once unless sessions keep dying young. */
    const lost = () => {
      if (current !== session) return;
      current = undefined;
      if (closed) return;
      if (connectedAt === undefined) {
        failing = true;
        retryLater(backoffMs);
        backoffMs = Math.min(options.maxBackoffMs, backoffMs * 2);
        return;
      }
      replacing = true;
      if (performance.now() - connectedAt < options.maxBackoffMs) {
        retryLater(backoffMs);
        backoffMs = Math.min(options.maxBackoffMs, backoffMs * 2);
      } else {
        backoffMs = options.initialBackoffMs;
        current = connect();
      }
    };
    session.on('error', () => {}); // 'close' follows; each stream reports its own end
    session.on('goaway', lost);
    session.once('close', () => {
      clearTimeout(timer);
      lost();
    });
    // The gateway's listener keeps the process alive; an idle upstream connection must not stop it from exiting.
    session.unref();
    streamsOpened = 0;
    return session;
  };

  return {
    authority: address.authority,
    scheme,
    get failing() {
      return failing;
    },
    get usable() {
      return !failing && !replacing;
    },
    session() {
      if (closed) return undefined;
      if (current !== undefined && !current.destroyed && !current.closed) {
        if (++streamsOpened < STREAMS_PER_SESSION) return current;
        current.close(); // its streams finish; new ones go to a fresh session
      }
      if (failing && performance.now() < retryAt) return undefined;
      current = connect();
      return current;
    },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      current?.destroy();
      current = undefined;
    },
  };
}

/**
 * Pings `session` every `intervalMs` until it closes, and destroys it when an ack takes longer than `timeoutMs`:
 * a peer that stopped answering without closing the socket would otherwise hold every call until its deadline.
 */
function keepAlive(session: ClientHttp2Session, intervalMs: number, timeoutMs: number): void {
  let waiting: NodeJS.Timeout | undefined;
  const pinger = setInterval(() => {
    if (waiting !== undefined || session.destroyed) return;
    waiting = setTimeout(() => session.destroy(new Error('keepalive ping timed out')), timeoutMs);
    waiting.unref();
    try {
      session.ping(() => {
        clearTimeout(waiting);
        waiting = undefined;
      });
    } catch {
      // The session is closing already; its 'close' stops the pings.
    }
  }, intervalMs);
  pinger.unref();
  session.once('close', () => {
    clearInterval(pinger);
    clearTimeout(waiting);
  });
}
