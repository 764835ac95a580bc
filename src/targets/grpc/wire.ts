/**
 * The gRPC-over-HTTP/2 wire format (grpc/doc/PROTOCOL-HTTP2.md) that the client channel needs:
 * length-prefixed messages, the grpc-timeout header, grpc-message decoding, and the statuses a
 * call gets when the server never sends one (HTTP status, RST_STREAM code).
 */
import { inflateSync, gunzipSync } from 'node:zlib';
import { LengthPrefixedSplitter } from './length-prefixed.js';
import { GrpcCode } from './status-codes.js';

/** grpc-js's default for received messages: 4 MiB. */
export const MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

/** A call that failed in a way the server did not report: the status the client gets. */
export class WireError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** One message with its 5-byte prefix: not compressed, then the length (big-endian). */
export function frameMessage(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** Splits the DATA of a response into messages (a message spread over chunks is joined once). */
export class MessageReader {
  private readonly splitter: LengthPrefixedSplitter;

  constructor(
    private readonly maxBytes: number,
    /** grpc-encoding of the response (compressed messages only). */
    private readonly encoding: () => string | undefined,
  ) {
    this.splitter = new LengthPrefixedSplitter(5, (buf, off) => {
      const length = buf.readUInt32BE(off + 1);
      if (length > maxBytes) throw new WireError(GrpcCode.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs. ${maxBytes})`);
      return length;
    });
  }

  /** Calls `out` for each message `chunk` completes; throws WireError for a message that is too large or cannot be decompressed. */
  push(chunk: Buffer, out: (message: Buffer) => void): void {
    this.splitter.push(chunk, (buf, off, length) => {
      const body = buf.subarray(off + 5, off + 5 + length);
      out(buf[off] === 0 ? body : this.decompress(body));
    });
  }

  /** True when the stream ended in the middle of a message. */
  get truncated(): boolean {
    return this.splitter.holding;
  }

  private decompress(body: Buffer): Buffer {
    // The channel asks for identity; a server that compresses anyway is still understood.
    const encoding = this.encoding();
    const opts = { maxOutputLength: this.maxBytes };
    try {
      if (encoding === 'gzip') return gunzipSync(body, opts);
      if (encoding === 'deflate') return inflateSync(body, opts);
    } catch (err) {
      throw new WireError(GrpcCode.INTERNAL, `Received a ${encoding} message that does not decompress: ${(err as Error).message}`);
    }
    throw new WireError(GrpcCode.UNIMPLEMENTED, `Received a compressed message with unsupported grpc-encoding "${encoding ?? ''}"`);
  }
}

/** The grpc-timeout header for a deadline `ms` from now: at most 8 digits, in the finest unit that fits. */
export function grpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  if (whole < 1e8) return `${whole}m`;
  const s = Math.ceil(whole / 1000);
  return s < 1e8 ? `${s}S` : `${Math.min(99_999_999, Math.ceil(s / 3600))}H`;
}

/** grpc-message is percent-encoded UTF-8; a value that does not decode is kept as sent. */
export function decodeGrpcMessage(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value.join(',') : (value ?? '');
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** A grpc-status header value; anything that is not a known code is UNKNOWN. */
export function parseGrpcStatus(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(Array.isArray(value) ? value[0] : value);
  return Number.isInteger(n) && n >= 0 && n <= 16 ? n : GrpcCode.UNKNOWN;
}

/** The status of a response that has an HTTP status other than 200 and no grpc-status (grpc/doc/http-grpc-status-mapping.md). */
export function grpcCodeOfHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return GrpcCode.INTERNAL;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode.UNAVAILABLE;
    default:
      return GrpcCode.UNKNOWN;
  }
}

/** The status of a stream the server reset without a grpc-status (PROTOCOL-HTTP2.md, "Errors"). */
export function grpcCodeOfRstCode(rstCode: number): number {
  switch (rstCode) {
    case 0x7: // REFUSED_STREAM: the server did not start the call
      return GrpcCode.UNAVAILABLE;
    case 0x8: // CANCEL
      return GrpcCode.CANCELLED;
    case 0xb: // ENHANCE_YOUR_CALM
      return GrpcCode.RESOURCE_EXHAUSTED;
    case 0xc: // INADEQUATE_SECURITY
      return GrpcCode.PERMISSION_DENIED;
    default:
      return GrpcCode.INTERNAL;
  }
}
