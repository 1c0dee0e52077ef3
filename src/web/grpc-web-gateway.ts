import { status as Status } from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http2';
import { GatehouseError } from '../errors.js';
import { grpcWebCallHeaders } from './call-headers.js';
import type { WebResponse } from './cors.js';
import { TimeoutHeaderError } from './deadline-header.js';
import { encodeFrame } from '../grpc-wire/frames.js';
import { INTERNAL_EXCHANGE } from './internal-channel.js';
import { startExchange, type GrpcOutcome } from '../grpc-wire/exchange.js';
import type { InternalConnection } from './internal-channel.js';
import type { WebRequest } from './read-body.js';

/** Whether a request is gRPC-Web (binary `application/grpc-web[+proto]` or text `application/grpc-web-text[+proto]`). */
export function isGrpcWeb(req: WebRequest): boolean {
  return /^application\/grpc-web(-text)?(\+proto)?\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''));
}

/** Trailers a gRPC-Web reply repeats in its trailer frame (HTTP plumbing left out). */
const NOT_TRAILERS = new Set([':status', 'content-type', 'date', 'content-length']);

/**
 * gRPC-Web on the same internal connections: the body's frames go to the
 * gRPC server as they are (base64-decoded first for `-text`), the reply's
 * frames come back as they are, and the status travels in a final trailer
 * frame (flag 0x80), since browsers cannot read HTTP trailers. A trailers-only
 * reply also carries its status in the headers. Metadata is every request
 * header except HTTP plumbing and browser state.
 */
export function createGrpcWebGateway(options: { maxBodyBytes: number }) {
  return function serveGrpcWeb(req: WebRequest, res: WebResponse, connection: InternalConnection, refuse: (error: GatehouseError) => void): void {
    const text = /^application\/grpc-web-text/i.test(String(req.headers['content-type']));
    const contentType = text ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto';
    const path = String(req.url ?? '').split('?')[0]!;
    if (req.method !== 'POST' || !/^\/[^/]+\/[^/]+$/.test(path)) {
      refuse(new GatehouseError('HTTP_METHOD_NOT_ALLOWED', 'gRPC-Web calls are POST /package.Service/Method'));
      return;
    }
    let headers;
    try {
      headers = grpcWebCallHeaders(req, connection, path);
    } catch (error) {
      refuse(
        error instanceof TimeoutHeaderError
          ? new GatehouseError('TIMEOUT_HEADER_INVALID', `timeout ${error.message}`)
          : new GatehouseError('HTTP_BODY_INVALID', 'the request could not be read'),
      );
      return;
    }
    const output = text ? base64Writer(res) : { write: (chunk: Buffer) => res.write(chunk), flush: () => {} };
    let headersSent = false;
    const sendHeaders = (extra: Record<string, string> = {}) => {
      if (headersSent) return;
      headersSent = true;
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', ...extra });
    };
    const exchange = startExchange(
      connection.session,
      headers,
      {
        onHeaders: () => sendHeaders(),
        onData(chunk) {
          sendHeaders();
          output.write(chunk);
        },
        onEnd(outcome) {
          if (res.writableEnded || res.destroyed) return;
          // A trailers-only reply: clients that read headers find the status there too.
          sendHeaders({ 'grpc-status': String(outcome.code), 'grpc-message': encodeURIComponent(outcome.message) });
          output.write(encodeFrame(trailerBlock(outcome), 0x80));
          output.flush();
          res.end();
        },
      },
      INTERNAL_EXCHANGE,
    );
    res.once('close', () => {
      if (!res.writableFinished) exchange.cancel();
    });
    // Request frames pass through; a body larger than allowed cancels the call (grpc-js bounds each message too).
    let received = 0;
    const decode = text ? base64Reader() : (chunk: Buffer) => chunk;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > options.maxBodyBytes) {
        exchange.cancel();
        return;
      }
      exchange.request.write(decode(chunk));
    });
    req.once('end', () => exchange.request.end());
  };
}

function trailerBlock(outcome: GrpcOutcome): Buffer {
  const lines = [
    `grpc-status: ${outcome.code === undefined ? Status.UNKNOWN : outcome.code}`,
    `grpc-message: ${encodeURIComponent(outcome.message)}`,
  ];
  for (const [name, value] of Object.entries(outcome.trailers as IncomingHttpHeaders)) {
    if (name.startsWith(':') || NOT_TRAILERS.has(name) || name === 'grpc-status' || name === 'grpc-message' || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

/** Base64 output in whole 3-byte groups, so the concatenated reply is one valid base64 text. */
function base64Writer(res: WebResponse) {
  let carry = Buffer.alloc(0);
  return {
    write(chunk: Buffer) {
      const all = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const whole = all.length - (all.length % 3);
      if (whole > 0) res.write(all.subarray(0, whole).toString('base64'));
      carry = Buffer.from(all.subarray(whole));
    },
    flush() {
      if (carry.length > 0) res.write(carry.toString('base64'));
      carry = Buffer.alloc(0);
    },
  };
}

/** Decodes base64 request text arriving in arbitrary chunks (4-character groups; padding may end each message). */
function base64Reader() {
  let carry = '';
  return (chunk: Buffer): Buffer => {
    const textChunk = carry + chunk.toString('latin1').replace(/\s+/g, '');
    const whole = textChunk.length - (textChunk.length % 4);
    carry = textChunk.slice(whole);
    return Buffer.from(textChunk.slice(0, whole), 'base64');
  };
}
