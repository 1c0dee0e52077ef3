import type { OutgoingHttpHeaders } from 'node:http';
import type { WebRequest } from './read-body.js';

/** A web response on either protocol: what Node's HTTP/1.1 ServerResponse and HTTP/2 compatibility response share. */
export interface WebResponse {
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders): unknown;
  setHeader(name: string, value: string): unknown;
  write(chunk: string | Uint8Array): boolean;
  end(chunk?: string | Uint8Array): unknown;
  once(event: 'close', listener: () => void): unknown;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
}

/** Headers a browser script may send and read across origins. */
const ALLOWED_REQUEST_HEADERS = 'authorization, content-type, accept, grpc-timeout, timeout, traceparent, tracestate, x-grpc-web, x-user-agent';
const EXPOSED_RESPONSE_HEADERS = 'grpc-status, grpc-message, grpc-status-details-bin, content-type';

/** The CORS decision for one request. */
export type CorsVerdict = 'same-origin' | 'allowed' | 'refused';

/**
 * CORS from `http.corsOrigins`, closed by default. A request without an
 * Origin header (curl, gRPC-Web from a server) or from the listener's own
 * origin (the console) needs nothing; another origin must be listed (or `*`
 * listed). A refused cross-origin request is answered 403 before any call is
 * made, so it never reaches the chain, let alone a service.
 */
export function createCors(origins: readonly string[]) {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  const verdict = (req: WebRequest): CorsVerdict => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string') return 'same-origin';
    const host = req.headers[':authority'] ?? req.headers.host;
    const scheme = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
    if (origin === `${scheme}://${String(host)}`) return 'same-origin';
    return any || allowed.has(origin) ? 'allowed' : 'refused';
  };
  return {
    verdict,
    /** Adds the response headers an allowed cross-origin request needs. */
    decorate(req: WebRequest, res: WebResponse, verdict: CorsVerdict): void {
      if (verdict !== 'allowed') return;
      res.setHeader('access-control-allow-origin', String(req.headers.origin));
      res.setHeader('vary', 'origin');
      res.setHeader('access-control-expose-headers', EXPOSED_RESPONSE_HEADERS);
    },
    /** Answers a preflight (OPTIONS): 204 with the allowances, or 403 for an origin not listed. */
    preflight(req: WebRequest, res: WebResponse): void {
      const result = verdict(req);
      if (result === 'refused') {
        res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('origin not allowed (http.corsOrigins)\n');
        return;
      }
      res.writeHead(204, {
        ...(result === 'allowed' ? { 'access-control-allow-origin': String(req.headers.origin), vary: 'origin' } : {}),
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': ALLOWED_REQUEST_HEADERS,
        'access-control-max-age': '600',
      });
      res.end();
    },
  };
}
