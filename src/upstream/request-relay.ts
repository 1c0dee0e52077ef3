import type { Writable } from 'node:stream';
import { encodeFrame } from '../grpc-wire/frames.js';
import type { Downstream } from './forward-call.js';

/**
 * The client's request stream on its way upstream, across attempts. Each
 * message is framed once and written to the current attempt's HTTP/2 stream,
 * pausing the client while that stream's window is full. While the call may
 * still be retried, the frames are also kept (at most `maxReplayBytes`), so
 * a new attempt starts with everything the client sent so far, as gRPC's own
 * retry design does. Once the upstream answers, or the kept frames outgrow
 * the bound, the call is committed: nothing is kept and it is not retried.
 */
export class RequestRelay {
  private kept: Buffer[] | undefined;
  private keptBytes = 0;
  private ended = false;
  private sink: Writable | undefined;

  constructor(
    private readonly source: NonNullable<Downstream['requests']>,
    retryable: boolean,
    private readonly maxReplayBytes: number,
  ) {
    this.kept = retryable ? [] : undefined;
    source.on('data', (message: Buffer) => this.relay(encodeFrame(message)));
    source.on('end', () => {
      this.ended = true;
      if (this.sink?.writable) this.sink.end();
    });
  }

  /** Whether a new attempt could still be sent everything the client sent. */
  get replayable(): boolean {
    return this.kept !== undefined;
  }

  /** The upstream answered (or retries are over): what was kept is released. */
  commit(): void {
    this.kept = undefined;
    this.keptBytes = 0;
  }

  /** Sends this attempt what the client sent so far, then what it sends next. */
  attach(sink: Writable): void {
    this.sink = sink;
    for (const frame of this.kept ?? []) sink.write(frame);
    if (this.ended) sink.end();
    // A previous attempt may have paused the client for a stream that is gone now.
    this.source.resume();
  }

  /** The attempt ended: until the next one is attached, messages are only kept. */
  detach(): void {
    this.sink = undefined;
  }

  private relay(frame: Buffer): void {
    if (this.kept !== undefined) {
      this.kept.push(frame);
      this.keptBytes += frame.length;
      if (this.keptBytes > this.maxReplayBytes) this.commit();
    }
    const sink = this.sink;
    if (sink === undefined) return; // between attempts: the frame is kept (or the call is committed and about to end)
    if (!sink.writable) return;
    if (!sink.write(frame)) {
      this.source.pause();
      sink.once('drain', () => this.source.resume());
    }
  }
}
