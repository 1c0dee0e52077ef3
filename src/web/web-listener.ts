import type * as grpc from '@grpc/grpc-js';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Registry } from 'prom-client';
import { credentialsTls } from '../../interceptors/grpc-compat.js';
import { guardConnections } from '../transport/connection-guard.js';
import type { Config } from '../config/schema.js';
import { GatehouseError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { createStatusDetailsCodec, type StatusDetailsCodec } from '../status/status-details.js';
import type { ApiDescriptors } from './api-descriptors.js';
import { createCors, type WebResponse } from './cors.js';
import { createErrorBodies } from './error-body.js';
import { encodeFrame } from '../grpc-wire/frames.js';
import { createGrpcWebGateway, isGrpcWeb } from './grpc-web-gateway.js';
import { buildHttpRouter } from './http-routes.js';
import type { InternalChannel, InternalConnection } from './internal-channel.js';
import { createJsonGateway, sendError } from './json-gateway.js';
import type { WebRequest } from './read-body.js';
import { createStaticFiles } from './static-files.js';

/** Options for {@link startWebListener}. */
export interface WebListenerOptions {
  config: Config;
  logger: Logger;
  /** The gRPC server's in-memory connections (src/web/internal-channel.ts). */
  channel: InternalChannel;
  /** The descriptor set's types and HTTP rules. */
  api: ApiDescriptors;
  /** The main listener's credentials: the same certificate, key, client CA and client-certificate policy, reloads included. */
  credentials: grpc.ServerCredentials;
  /** The gateway's registry (connections the guard closes are counted there). */
  registry: Registry;
  /** Whether the gateway hosts a method (`/pkg.Service/Method`): routes of services config turned off are not served. */
  hosted(path: string): boolean;
}

/** A started web listener. */
export interface WebListener {
  readonly port: number;
  /** Stops accepting connections; open ones finish their requests. */
  beginDrain(): void;
  /** Closes every connection, internal ones included. */
  close(): Promise<void>;
}

/**
 * The web listener: HTTP/1.1 and HTTP/2 (ALPN) with the main listener's TLS
 * mode and certificates (`insecure` mode serves plaintext HTTP/1.1), serving
 * HTTP/JSON routes from the `google.api.http` annotations, gRPC-Web, and the
 * browser console. Every call goes into the gRPC server over the caller's
 * internal connection, so the whole interceptor chain runs on it.
 */
export async function startWebListener(options: WebListenerOptions): Promise<WebListener> {
  const { config, logger, channel, api } = options;
  const settings = config.http;
  const codec = createStatusDetailsCodec();
  const errors = createErrorBodies(api.root, codec);
  const router = buildHttpRouter(api.methods.values(), options.hosted);
  const cors = createCors(settings.corsOrigins);
  const serveJson = createJsonGateway({
    errors,
    maxBodyBytes: settings.maxBodyBytes,
    maxMessageBytes: config.server.maxSendMessageBytes,
    bodyTimeoutMs: settings.requestTimeoutMs,
  });
  const serveGrpcWeb = createGrpcWebGateway({ maxBodyBytes: settings.maxBodyBytes });
  const serveStatic = settings.console ? createStaticFiles() : () => false;
  const connections = new WeakMap<object, InternalConnection>();
  // Requests in flight, so the drain can give them the same grace as gRPC calls.
  let inFlight = 0;
  let drainStartedAt: number | undefined;
  const sockets = new Set<Socket>();

  /** The caller's internal connection: one per external connection (HTTP/2 session or HTTP/1.1 socket), opened on its first call. */
  const connectionOf = (req: WebRequest): InternalConnection => {
    const key: object = req.httpVersionMajor === 2 ? (req as Http2ServerRequest).stream.session! : req.socket;
    let connection = connections.get(key);
    if (connection === undefined) {
      const socket = req.socket as Socket & Partial<TLSSocket>;
      // Node's TLS verified the certificate against the client CA (rejectUnauthorized in mtls mode); unverified ones never count.
      const certificate = socket.authorized === true ? socket.getPeerCertificate?.() : undefined;
      const opened = channel.open({ certificate: certificate?.raw ? certificate : undefined });
      connection = opened;
      connections.set(key, opened);
      (key as { once(event: 'close', listener: () => void): void }).once('close', () => opened.session.close());
    }
    return connection;
  };

  const handle = (req: WebRequest, res: WebResponse): void => {
    inFlight++;
    res.once('close', () => inFlight--);
    const path = String(req.url ?? '/').split('?')[0]!;
    if (req.method === 'OPTIONS') {
      cors.preflight(req, res);
      return;
    }
    const verdict = cors.verdict(req);
    const grpcWeb = isGrpcWeb(req);
    const refuse = (error: GatehouseError) => (grpcWeb ? refuseGrpcWeb(req, res, error, codec) : sendError(res, errors.fromError(error)));
    if (verdict === 'refused') {
      refuse(
        new GatehouseError(
          'CORS_ORIGIN_NOT_ALLOWED',
          `origin ${String(req.headers.origin).slice(0, 100)} may not call this gateway (http.corsOrigins)`,
        ),
      );
      return;
    }
    cors.decorate(req, res, verdict);
    if (grpcWeb) {
      serveGrpcWeb(req, res, connectionOf(req), refuse);
      return;
    }
    const match = router.match(String(req.method), path);
    if (match === 'method-not-allowed') {
      refuse(new GatehouseError('HTTP_METHOD_NOT_ALLOWED', `${String(req.method)} is not served at ${path.slice(0, 100)}`));
      return;
    }
    if (match !== undefined) {
      serveJson(req, res, match, connectionOf(req)).catch((error: unknown) => {
        logger.error('web request failed', { path: match.route.template, error: error instanceof Error ? error.message : String(error) });
        if (!res.headersSent) sendError(res, errors.fromStatus(13, 'the gateway failed to answer; see its log', undefined));
        else res.end();
      });
      return;
    }
    if (serveStatic(req, res, path)) return;
    refuse(
      new GatehouseError(
        'HTTP_ROUTE_NOT_FOUND',
        `no route for ${String(req.method)} ${path.slice(0, 100)}; routes: ${router.routes.map((r) => `${r.httpMethod} ${r.template}`).join(', ')}`,
      ),
    );
  };

  const server = await createServer(config, options.credentials, handle);
  // The gRPC listener's connection limits: per-address cap, TLS handshake and HTTP/2 preface deadlines.
  if (!(server instanceof http.Server)) guardConnections(server, { ...config.server, registry: options.registry });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : settings.port);
    });
  });
  logger.info('web listener ready', { port, routes: router.routes.map((r) => `${r.httpMethod} ${r.template}`) });
  return {
    port,
    beginDrain() {
      drainStartedAt ??= performance.now();
      server.close();
    },
    async close() {
      server.close();
      // The drain's grace, counted from its start, for requests still in flight (a watch stream never ends by itself).
      const graceEnds = (drainStartedAt ?? performance.now()) + config.server.shutdownGraceMs;
      while (inFlight > 0 && performance.now() < graceEnds) await sleep(50);
      // Calls still open past the drain end first (each reply gets its status: a stream's last line says why), and
      // those replies still go out: HTTP/2 sessions close once their streams are done, other connections get a
      // moment; whatever is left then is cut.
      channel.close();
      for (const session of sessions) session.close();
      for (let waited = 0; sockets.size > 0 && waited < CLOSE_GRACE_MS; waited += 50) await sleep(50);
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** How long closing waits for replies already ended to reach their clients, in ms. */
const CLOSE_GRACE_MS = 1000;

type Handler = (req: WebRequest, res: WebResponse) => void;

async function createServer(config: Config, credentials: grpc.ServerCredentials, handle: Handler): Promise<http.Server | Http2SecureServer> {
  if (config.server.tls.mode === 'insecure') {
    // Plaintext is for development: HTTP/1.1 only (browsers never speak HTTP/2 without TLS).
    const server = http.createServer((req: IncomingMessage, res: ServerResponse) => handle(req, res));
    // Node's own limit only backs ours up (ours answers first, with a JSON status).
    server.requestTimeout = config.http.requestTimeoutMs > 0 ? config.http.requestTimeoutMs + 1000 : 0;
    return server;
  }
  const tls = credentialsTls(credentials);
  if (tls === undefined) throw new Error("the gRPC listener's TLS settings cannot be read (grpc-js changed); the web listener cannot start");
  // The first certificate, key and CA; later ones (reloads) replace the context for new handshakes.
  let server: Http2SecureServer | undefined;
  const first = new Promise<Record<string, unknown>>((resolve) => {
    tls.watch((contextOptions) => {
      if (server === undefined) resolve(contextOptions);
      else server.setSecureContext(contextOptions);
    });
  });
  server = http2.createSecureServer(
    { allowHTTP1: true, ...tls.serverOptions, ...(await first) },
    (req: Http2ServerRequest, res: Http2ServerResponse) => handle(req, res),
  );
  return server;
}

/** A gRPC-Web refusal before any call: trailers-only, with the status in the headers and in a trailer frame. */
function refuseGrpcWeb(req: WebRequest, res: WebResponse, error: GatehouseError, codec: StatusDetailsCodec): void {
  const text = /^application\/grpc-web-text/i.test(String(req.headers['content-type']));
  const details = codec.encode(error, error.message).toString('base64');
  const message = encodeURIComponent(error.message);
  const trailer = encodeFrame(Buffer.from(`grpc-status: ${error.code}\r\ngrpc-message: ${message}\r\ngrpc-status-details-bin: ${details}\r\n`), 0x80);
  res.writeHead(200, {
    'content-type': text ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto',
    'grpc-status': String(error.code),
    'grpc-message': message,
  });
  res.end(text ? trailer.toString('base64') : trailer);
  req.resume();
}
