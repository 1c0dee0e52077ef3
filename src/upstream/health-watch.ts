import { status as Status } from '@grpc/grpc-js';
import type { OutgoingHttpHeaders } from 'node:http2';
import protobuf from 'protobufjs';
import { startExchange, type GrpcExchange, type GrpcOutcome } from '../grpc-wire/exchange.js';
import { encodeFrame, FrameReader } from '../grpc-wire/frames.js';
import type { UpstreamConnection } from './upstream-connection.js';

/** Options for {@link watchEndpointHealth}. */
export interface HealthWatchOptions {
  /** Service name asked about; "" is the server as a whole. */
  service: string;
  /** Between Check polls (no Watch on the upstream) and between attempts to re-open a failed Watch, in ms. */
  intervalMs: number;
  /** Deadline of one Check, in ms. */
  timeoutMs: number;
}

/** A running health watch; stop it with the gateway. */
export interface HealthWatch {
  stop(): void;
}

/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;
const WATCH = '/grpc.health.v1.Health/Watch';
const CHECK = '/grpc.health.v1.Health/Check';
/** A HealthCheckResponse is a few bytes; anything near this is not one. */
const MAX_HEALTH_REPLY_BYTES = 4096;

/**
 * Follows one endpoint's grpc.health.v1 status and reports each verdict
 * (true: SERVING). Watch is preferred: a change (or the connection dying) is
 * known at once. An upstream without Watch is polled with Check; one without
 * any health service counts as healthy (failed calls still eject it).
 */
export function watchEndpointHealth(
  connection: UpstreamConnection,
  options: HealthWatchOptions,
  verdict: (healthy: boolean, why: string) => void,
): HealthWatch {
  const request = encodeFrame(encodeRequest(options.service));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: GrpcExchange | undefined;
  const later = (run: () => void) => {
    if (stopped) return;
    timer = setTimeout(run, options.intervalMs);
    timer.unref();
  };
  /** The next health call: at once when the last one ended on its connection's GOAWAY (a new connection is up next). */
  const again = (run: () => void, movedAway: boolean) => (movedAway ? run() : later(run));
  /** Starts one health call on the endpoint's connection; undefined while that connection backs off after a failed attempt. */
  const call = (
    path: string,
    timeoutMs: number | undefined,
    onReply: (status: number) => void,
    onEnd: (outcome: GrpcOutcome, movedAway: boolean) => void,
  ) => {
    const session = connection.session();
    if (session === undefined) return undefined;
    const frames = new FrameReader(MAX_HEALTH_REPLY_BYTES);
    const headers: OutgoingHttpHeaders = { ':path': path, ':authority': connection.authority, ':scheme': connection.scheme };
    if (timeoutMs !== undefined) headers['grpc-timeout'] = `${timeoutMs}m`;
    const exchange = startExchange(
      session,
      headers,
      {
        onData(chunk) {
          try {
            for (const frame of frames.push(chunk)) onReply(decodeStatus(frame.payload));
          } catch {
            exchange.cancel(); // a health reply larger than any real one: not a health service
          }
        },
        onEnd: (outcome) => onEnd(outcome, movedAway),
      },
      { lostMessage: 'the connection was lost' },
    );
    exchange.request.end(request);
    // A GOAWAY asks for calls to move to a new connection, and a server stopping gracefully waits for its open
    // streams: the call ends here (the endpoint counts as unhealthy) and the next starts at once on a new connection.
    let movedAway = false;
    const onGoaway = () => {
      movedAway = true;
      exchange.cancel();
    };
    session.once('goaway', onGoaway);
    exchange.request.once('close', () => session.off('goaway', onGoaway));
    return exchange;
  };

  const watch = () => {
    current = call(
      WATCH,
      undefined,
      (status) => verdict(status === SERVING, status === SERVING ? 'SERVING' : `health status ${status}`),
      (outcome, movedAway) => {
        if (stopped) return;
        if (outcome.code === Status.UNIMPLEMENTED) return check();
        verdict(false, `health watch ended: ${Status[outcome.code]}`);
        again(watch, movedAway);
      },
    );
    if (current === undefined) {
      verdict(false, 'cannot connect');
      later(watch);
    }
  };

  const check = () => {
    let status: number | undefined;
    // A Check that never ends would stop the polling: it gets a deadline of its own besides grpc-timeout.
    const deadline = setTimeout(() => current?.cancel(), options.timeoutMs);
    deadline.unref();
    current = call(
      CHECK,
      options.timeoutMs,
      (reply) => {
        status = reply;
      },
      (outcome, movedAway) => {
        clearTimeout(deadline);
        if (stopped) return;
        if (outcome.code === Status.OK && status !== undefined) {
          verdict(status === SERVING, status === SERVING ? 'SERVING' : `health status ${status}`);
        } else if (outcome.code === Status.UNIMPLEMENTED) {
          verdict(true, 'no health service; counted healthy');
        } else {
          verdict(false, `health check failed: ${Status[outcome.code]}`);
        }
        again(check, movedAway);
      },
    );
    if (current === undefined) {
      clearTimeout(deadline);
      verdict(false, 'cannot connect');
      later(check);
    }
  };

  watch();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      current?.cancel();
    },
  };
}

function encodeRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  return Buffer.from(protobuf.Writer.create().uint32(10).string(service).finish());
}

/** `status` (field 1) of a HealthCheckResponse; 0 (UNKNOWN) when absent or unreadable. */
function decodeStatus(bytes: Buffer): number {
  try {
    const reader = protobuf.Reader.create(bytes);
    let status = 0;
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag === 8) status = reader.int32();
      else reader.skipType(tag & 7);
    }
    return status;
  } catch {
    return 0;
  }
}
