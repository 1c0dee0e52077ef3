import { status as Status } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { GatehouseError, invalidField } from '../errors.js';
import { jsonCallHeaders } from './call-headers.js';
import type { WebResponse } from './cors.js';
import { TimeoutHeaderError } from './deadline-header.js';
import type { ErrorBodies, HttpError } from './error-body.js';
import { encodeFrame, FrameReader } from '../grpc-wire/frames.js';
import { INTERNAL_EXCHANGE } from './internal-channel.js';
import { startExchange } from '../grpc-wire/exchange.js';
import type { RouteMatch } from './http-routes.js';
import type { InternalConnection } from './internal-channel.js';
import { JsonMappingError, messageFromJson, messageToJson } from './json-mapping.js';
import { BodyTimeoutError, BodyTooLargeError, readBody, type WebRequest } from './read-body.js';

/** Options for {@link createJsonGateway}. */
export interface JsonGatewayOptions {
  errors: ErrorBodies;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Largest reply message, in bytes (the server's maxSendMessageBytes). */
  maxMessageBytes: number;
  /** How long a whole (not streamed) body may take to arrive, in ms; 0 = no limit. */
  bodyTimeoutMs: number;
}

/**
 * HTTP/JSON: a routed request becomes one gRPC call on the caller's internal
 * connection. The request message is built from the path variables, the body
 * (`body: "*"`) or the query string (no body), in the proto3 JSON mapping
 * (a client stream: newline-delimited JSON, one message a line);
 * the reply is JSON, newline-delimited JSON for a server stream, or, when the
 * caller accepts `audio/*` and the reply carries `audio_content`, the raw
 * audio. Non-OK statuses become HTTP errors with the google.rpc.Status body.
 */
export function createJsonGateway(options: JsonGatewayOptions) {
  const { errors } = options;
  return async function serveJson(req: WebRequest, res: WebResponse, match: RouteMatch, connection: InternalConnection): Promise<void> {
    const { route } = match;
    const method = route.method;
    let request: protobuf.Message | undefined;
    let headers;
    try {
      // A client stream is read line by line as it arrives (below); anything else is read whole first.
      if (method.requestStream) checkJsonBody(req);
      else request = messageFromJson(method.requestType, await requestJson(req, match, options.maxBodyBytes, options.bodyTimeoutMs));
      headers = jsonCallHeaders(req, connection, method.path);
    } catch (error) {
      sendError(res, errors.fromError(asWebError(error)));
      return;
    }
    const rawAudio = acceptsAudio(req) && method.responseType.fields.audio_content !== undefined && !method.responseStream;
    const frames = new FrameReader(options.maxMessageBytes);
    const replies: Buffer[] = [];
    let streaming = false;
    const startStream = () => {
      if (streaming) return;
      streaming = true;
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
    };
    const exchange = startExchange(
      connection.session,
      headers,
      {
        // A stream's headers go out as soon as the service accepted the call, so a watcher knows it is connected.
        onHeaders: method.responseStream ? startStream : undefined,
        onData(chunk) {
          for (const frame of frames.push(chunk)) {
            if (!method.responseStream) {
              replies.push(frame.payload);
              continue;
            }
            startStream();
            res.write(`${JSON.stringify(messageToJson(method.responseType, method.responseType.decode(frame.payload)))}\n`);
          }
        },
        onEnd(outcome) {
          if (res.writableEnded || res.destroyed) return;
          if (streaming) {
            // The 200 is already out: a stream that ends in error says so on its last line.
            if (outcome.code !== Status.OK)
              res.write(`${JSON.stringify({ error: errors.fromStatus(outcome.code, outcome.message, outcome.details).body })}\n`);
            res.end();
            return;
          }
          if (outcome.code !== Status.OK) {
            sendError(res, errors.fromStatus(outcome.code, outcome.message, outcome.details));
            return;
          }
          if (method.responseStream) {
            res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8' });
            res.end();
            return;
          }
          const reply = method.responseType.decode(replies[0] ?? Buffer.alloc(0));
          if (rawAudio) {
            sendAudio(res, reply as unknown as AudioReply);
            return;
          }
          const body = JSON.stringify(messageToJson(method.responseType, reply));
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        },
      },
      INTERNAL_EXCHANGE,
    );
    // The caller went away before the reply ended: the call is cancelled, as a gRPC client's would be.
    res.once('close', () => {
      if (!res.writableFinished) exchange.cancel();
    });
    if (request !== undefined) {
      exchange.request.end(encodeFrame(method.requestType.encode(request).finish()));
      return;
    }
    streamRequests(req, method.requestType, options.maxBodyBytes, {
      message: (message) => exchange.request.write(encodeFrame(method.requestType.encode(message).finish())),
      end: () => exchange.request.end(),
      fail(error) {
        exchange.cancel();
        sendError(res, errors.fromError(asWebError(error)));
      },
    });
  };
}

/**
 * A client stream over HTTP/JSON: newline-delimited JSON, one request
 * message a line, each sent on as soon as its line is complete. A line that
 * does not fit the type fails the call (400 when nothing was answered yet).
 */
function streamRequests(
  req: WebRequest,
  type: protobuf.Type,
  maxBodyBytes: number,
  sink: { message(message: protobuf.Message): void; end(): void; fail(error: unknown): void },
): void {
  let pending = '';
  let total = 0;
  let line = 0;
  let failed = false;
  const take = (text: string) => {
    line++;
    if (text.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw invalidBody('', `line ${line} is not valid JSON (${(error as Error).message.slice(0, 120)})`);
    }
    try {
      sink.message(messageFromJson(type, parsed));
    } catch (error) {
      if (error instanceof JsonMappingError) throw invalidBody(error.field ? `line ${line}: ${error.field}` : `line ${line}`, error.description);
      throw error;
    }
  };
  const fail = (error: unknown) => {
    failed = true;
    req.removeAllListeners('data');
    req.resume();
    sink.fail(error);
  };
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    if (failed) return;
    total += Buffer.byteLength(chunk);
    if (total > maxBodyBytes) return fail(new BodyTooLargeError(maxBodyBytes));
    pending += chunk;
    let newline: number;
    try {
      while ((newline = pending.indexOf('\n')) >= 0) {
        take(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    } catch (error) {
      fail(error);
    }
  });
  req.once('end', () => {
    if (failed) return;
    try {
      take(pending);
      sink.end();
    } catch (error) {
      fail(error);
    }
  });
}

function checkJsonBody(req: WebRequest): void {
  const type = String(req.headers['content-type'] ?? 'application/x-ndjson');
  if (!/^application\/(x-ndjson|json)\b/i.test(type)) {
    throw new GatehouseError(
      'HTTP_CONTENT_TYPE_UNSUPPORTED',
      `send a client stream as application/x-ndjson (one JSON message a line), not ${type.slice(0, 60)}`,
    );
  }
}

/** The parts of a SynthesizeResponse that raw audio needs. */
interface AudioReply {
  audio_content?: Uint8Array;
  audio_info?: { audio_encoding?: number; container?: number; sample_rate_hertz?: number };
}

function sendAudio(res: WebResponse, reply: AudioReply): void {
  const audio = Buffer.from(reply.audio_content ?? []);
  const info = reply.audio_info ?? {};
  // AudioContainer WAV = 2; AudioEncoding MULAW = 2, ALAW = 3, OGG_OPUS = 4 (gatehouse/tts/v1/tts.proto).
  const type =
    info.container === 2
      ? 'audio/wav'
      : info.audio_encoding === 4
        ? 'audio/ogg; codecs=opus'
        : info.audio_encoding === 2
          ? `audio/PCMU; rate=${info.sample_rate_hertz ?? 8000}`
          : info.audio_encoding === 3
            ? `audio/PCMA; rate=${info.sample_rate_hertz ?? 8000}`
            : `audio/L16; rate=${info.sample_rate_hertz ?? 22050}; channels=1`;
  res.writeHead(200, { 'content-type': type, 'content-length': audio.length });
  res.end(audio);
}

async function requestJson(req: WebRequest, match: RouteMatch, maxBodyBytes: number, bodyTimeoutMs: number): Promise<Record<string, unknown>> {
  const { route } = match;
  let json: Record<string, unknown> = {};
  if (route.body !== '') {
    const type = String(req.headers['content-type'] ?? 'application/json');
    if (!/^application\/json\b/i.test(type)) {
      throw new GatehouseError('HTTP_CONTENT_TYPE_UNSUPPORTED', `send the body as application/json, not ${type.slice(0, 60)}`);
    }
    const body = await readBody(req, maxBodyBytes, bodyTimeoutMs);
    const parsed = body.length === 0 ? {} : parseJson(body);
    if (route.body === '*') {
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidBody('', 'the body must be a JSON object');
      json = parsed as Record<string, unknown>;
    } else {
      json = { [route.body]: parsed };
    }
  } else {
    json = queryJson(String(req.url ?? ''));
  }
  for (const [field, value] of Object.entries(match.variables)) setPath(json, field, value);
  return json;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw invalidBody('', `the body is not valid JSON (${(error as Error).message.slice(0, 120)})`);
  }
}

/** Query parameters as a JSON object: `a.b=1` sets a nested field, a repeated name a list. */
function queryJson(url: string): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  for (const [name, value] of new URLSearchParams(query)) {
    const parts = name.split('.');
    let target = json;
    for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
    const last = parts[parts.length - 1]!;
    const existing = target[last];
    target[last] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return json;
}

function setPath(json: Record<string, unknown>, path: string, value: string): void {
  const parts = path.split('.');
  let target = json;
  for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
  target[parts[parts.length - 1]!] = value;
}

function invalidBody(field: string, description: string): GatehouseError {
  return new GatehouseError(
    'HTTP_BODY_INVALID',
    field ? `${field}: ${description}` : description,
    field ? { fieldViolations: [{ field, description }] } : {},
  );
}

function asWebError(error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  if (error instanceof JsonMappingError) return invalidBody(error.field, error.description);
  if (error instanceof BodyTooLargeError) return new GatehouseError('HTTP_BODY_TOO_LARGE', error.message);
  if (error instanceof BodyTimeoutError) return new GatehouseError('HTTP_BODY_TIMEOUT', error.message);
  if (error instanceof TimeoutHeaderError) return invalidField('timeout', error.message);
  return new GatehouseError('HTTP_BODY_INVALID', 'the request could not be read');
}

function acceptsAudio(req: WebRequest): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && /(^|,)\s*audio\//i.test(accept);
}

/** Writes an HTTP error with its google.rpc.Status body. */
export function sendError(res: WebResponse, error: HttpError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(error.body);
  res.writeHead(error.httpStatus, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
