/** HTTP/2 frames (RFC 9113 section 4 and 6): the types, flags and settings the client uses, writing one, and splitting a byte stream into them. */
import { H2_CODE, H2ProtocolError } from './errors.js';

export const FRAME = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export const SETTING = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** The connection preface a client sends first (RFC 9113 section 3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** The default and smallest SETTINGS_MAX_FRAME_SIZE. */
export const DEFAULT_MAX_FRAME = 16_384;
export const HEADER_BYTES = 9;

/** The 9-octet frame header for a payload of `length` octets. */
export function frameHeader(type: number, flags: number, streamId: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return h;
}

/** A whole frame. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(type, flags, streamId, payload.length), payload]);
}

export function settingsFrame(settings: ReadonlyArray<readonly [number, number]>): Buffer {
  const p = Buffer.allocUnsafe(settings.length * 6);
  settings.forEach(([id, value], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, p);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const f = frameHeader(FRAME.WINDOW_UPDATE, 0, streamId, 4);
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(increment, 0);
  return Buffer.concat([f, p]);
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(code, 0);
  return frame(FRAME.RST_STREAM, 0, streamId, p);
}

export function goawayFrame(lastStreamId: number, code: number): Buffer {
  const p = Buffer.allocUnsafe(8);
  p.writeUInt32BE(lastStreamId, 0);
  p.writeUInt32BE(code, 4);
  return frame(FRAME.GOAWAY, 0, 0, p);
}

export type FrameHandler = (type: number, flags: number, streamId: number, payload: Buffer) => void;

/**
 * Splits what the socket reads into frames. A chunk holding whole frames is sliced without
 * copying; a frame spread over chunks is joined once, when its last octet arrives.
 */
export class FrameReader {
  private parts: Buffer[] = [];
  private held = 0;
  private want = HEADER_BYTES;

  /** @param maxFrame the SETTINGS_MAX_FRAME_SIZE this side sent: a larger frame is a FRAME_SIZE_ERROR. */
  constructor(private readonly maxFrame = DEFAULT_MAX_FRAME) {}

  push(chunk: Buffer, onFrame: FrameHandler): void {
    if (this.held > 0) {
      this.parts.push(chunk);
      this.held += chunk.length;
      if (this.held < this.want) return;
      chunk = Buffer.concat(this.parts, this.held);
      this.parts = [];
      this.held = 0;
    }
    let off = 0;
    for (;;) {
      const left = chunk.length - off;
      if (left < HEADER_BYTES) {
        this.want = HEADER_BYTES;
        break;
      }
      const length = chunk.readUIntBE(off, 3);
      if (length > this.maxFrame) throw new H2ProtocolError(H2_CODE.FRAME_SIZE_ERROR, `a frame of ${length} octets, over the ${this.maxFrame} allowed`);
      if (left < HEADER_BYTES + length) {
        this.want = HEADER_BYTES + length;
        break;
      }
      const type = chunk[off + 3]!;
      const flags = chunk[off + 4]!;
      const streamId = chunk.readUInt32BE(off + 5) & 0x7fffffff;
      onFrame(type, flags, streamId, chunk.subarray(off + HEADER_BYTES, off + HEADER_BYTES + length));
      off += HEADER_BYTES + length;
    }
    if (off < chunk.length) {
      this.parts.push(off === 0 ? chunk : chunk.subarray(off));
      this.held = chunk.length - off;
    }
  }
}
