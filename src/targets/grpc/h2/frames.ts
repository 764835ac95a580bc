/** HTTP/2 frames (RFC 9113 section 4 and 6): the types, flags and settings the client uses, writing one, and splitting a byte stream into them. */
import { LengthPrefixedSplitter } from '../length-prefixed.js';
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
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(increment, 0);
  return frame(FRAME.WINDOW_UPDATE, 0, streamId, p);
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

/** Splits what the socket reads into frames. */
export class FrameReader {
  private readonly splitter: LengthPrefixedSplitter;

  /** @param maxFrame the SETTINGS_MAX_FRAME_SIZE this side sent: a larger frame is a FRAME_SIZE_ERROR. */
  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.splitter = new LengthPrefixedSplitter(HEADER_BYTES, (buf, off) => {
      const length = buf.readUIntBE(off, 3);
      if (length > maxFrame) throw new H2ProtocolError(H2_CODE.FRAME_SIZE_ERROR, `a frame of ${length} octets, over the ${maxFrame} allowed`);
      return length;
    });
  }

  push(chunk: Buffer, onFrame: FrameHandler): void {
    this.splitter.push(chunk, (buf, off, length) => {
      const streamId = buf.readUInt32BE(off + 5) & 0x7fffffff;
      onFrame(buf[off + 3]!, buf[off + 4]!, streamId, buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + length));
    });
  }
}
