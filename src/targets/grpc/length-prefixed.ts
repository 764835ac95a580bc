/**
 * Splits a byte stream into records that each start with a fixed-size header giving the length
 * of what follows: gRPC's length-prefixed messages (wire.ts) and HTTP/2 frames (h2/frames.ts).
 * A chunk holding whole records is sliced without copying; a record spread over chunks is joined
 * once, when its last byte arrives.
 */
export class LengthPrefixedSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  /** Bytes the held parts must reach before anything can be parsed. */
  private want: number;

  /**
   * @param headerBytes the header's size.
   * @param bodyLength reads the length of the body after the header at `off` (and may throw to refuse it).
   */
  constructor(
    private readonly headerBytes: number,
    private readonly bodyLength: (chunk: Buffer, off: number) => number,
  ) {
    this.want = headerBytes;
  }

  /** Calls `record` with each whole record `chunk` completes: the buffer it is in, where its header starts, and its body's length. */
  push(chunk: Buffer, record: (buf: Buffer, off: number, length: number) => void): void {
    if (this.held > 0) {
      this.parts.push(chunk);
      this.held += chunk.length;
      if (this.held < this.want) return;
      chunk = Buffer.concat(this.parts, this.held);
      this.parts = [];
      this.held = 0;
    }
    const header = this.headerBytes;
    let off = 0;
    for (;;) {
      const left = chunk.length - off;
      if (left < header) {
        this.want = header;
        break;
      }
      const length = this.bodyLength(chunk, off);
      if (left < header + length) {
        this.want = header + length;
        break;
      }
      record(chunk, off, length);
      off += header + length;
    }
    if (off < chunk.length) {
      this.parts.push(off === 0 ? chunk : chunk.subarray(off));
      this.held = chunk.length - off;
    }
  }

  /** True while part of a record is held (the stream stopped in the middle of one). */
  get holding(): boolean {
    return this.held > 0;
  }
}
