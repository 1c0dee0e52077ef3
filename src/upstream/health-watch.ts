import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

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

/**
 * Follows one endpoint's grpc.health.v1 status and reports each verdict
 * (true: SERVING). Watch is preferred: a change (or the connection dying) is
 * known at once. An upstream without Watch is polled with Check; one without
 * any health service counts as healthy (failed calls still eject it).
 */
export function watchEndpointHealth(client: grpc.Client, options: HealthWatchOptions, verdict: (healthy: boolean, why: string) => void): HealthWatch {
  const request = encodeRequest(options.service);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: grpc.ClientReadableStream<Buffer> | grpc.ClientUnaryCall | undefined;
  const later = (run: () => void) => {
    if (stopped) return;
    timer = setTimeout(run, options.intervalMs);
    timer.unref();
  };

  const watch = () => {
    let settled = false;
    const stream = client.makeServerStreamRequest<Buffer, Buffer>(
      WATCH,
      (b) => b,
      (b) => b,
      request,
      new grpc.Metadata(),
      {},
    );
    current = stream;
    stream.on('data', (reply: Buffer) => {
      const status = decodeStatus(reply);
      verdict(status === SERVING, status === SERVING ? 'SERVING' : `health status ${status}`);
    });
    stream.on('error', () => undefined); // the status event says it all
    stream.on('status', (status: grpc.StatusObject) => {
      if (settled || stopped) return;
      settled = true;
      if (status.code === grpc.status.UNIMPLEMENTED) return check();
      verdict(false, `health watch ended: ${grpc.status[status.code]}`);
      later(watch);
    });
  };

  const check = () => {
    current = client.makeUnaryRequest<Buffer, Buffer>(
      CHECK,
      (b) => b,
      (b) => b,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + options.timeoutMs },
      (error, reply) => {
        if (stopped) return;
        if (error === null) {
          const status = decodeStatus(reply ?? Buffer.alloc(0));
          verdict(status === SERVING, status === SERVING ? 'SERVING' : `health status ${status}`);
        } else if (error.code === grpc.status.UNIMPLEMENTED) {
          verdict(true, 'no health service; counted healthy');
        } else {
          verdict(false, `health check failed: ${grpc.status[error.code]}`);
        }
        later(check);
      },
    );
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
