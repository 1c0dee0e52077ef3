/** One length-prefixed gRPC message frame: flags byte (bit 0 compressed; gRPC-Web bit 7 trailers), length, payload. */
export interface GrpcFrame {
  flags: number;
  payload: Buffer;
}

/** Frames one message (or, with flags 0x80, a gRPC-Web trailer block). */
export function encodeFrame(payload: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.allocUnsafe(5 + payload.length);
  frame[0] = flags;
  frame.writeUInt32BE(payload.length, 1);
  frame.set(payload, 5);
  return frame;
}

/** Thrown when a frame announces more bytes than allowed. */
export class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';
  constructor(
    readonly length: number,
    readonly maxBytes: number,
  ) {
    super(`a message of ${length} bytes is larger than the ${maxBytes} bytes allowed`);
  }
}

/**
 * Splits a byte stream into frames as chunks arrive (a frame may span chunks,
 * a chunk may hold many). A frame longer than `maxBytes` throws before its
 * bytes are buffered.
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Adds a chunk; returns every frame it completes. */
  push(chunk: Buffer): GrpcFrame[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: GrpcFrame[] = [];
    while (this.pendingBytes >= 5) {
      const head = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [head];
      const length = head.readUInt32BE(1);
      if (length > this.maxBytes) throw new FrameTooLargeError(length, this.maxBytes);
      if (head.length < 5 + length) break;
      frames.push({ flags: head[0]!, payload: head.subarray(5, 5 + length) });
      const rest = head.subarray(5 + length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    return frames;
  }

  /** Bytes of an unfinished frame still held (a body that ends here was truncated). */
  get leftoverBytes(): number {
    return this.pendingBytes;
  }
}
