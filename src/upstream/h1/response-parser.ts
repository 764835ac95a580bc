/**
 * An incremental parser of HTTP/1.1 responses (RFC 9112), for the gateway's own upstream client
 * (h1/connection.ts): the status line and header fields, then the body framed by
 * Content-Length, chunked transfer coding, or the connection's close. It is strict where a
 * lenient parser would let two parties read one message differently: a header line folded
 * (obs-fold), a bare LF, a field name that is no token, Content-Length values that disagree or
 * are no number, a head over the size allowed, a chunk size that is no hex number: each ends
 * the message with an H1Error. Interim answers (1xx, but 101) are skipped.
 */
import { H1Error } from './errors.js';

/** What the parser hands over: the head, body pieces (slices of the input), the end. */
export interface ResponseSink {
  /** The final head: names lower-cased, in order, repeated ones repeated. */
  onHead(status: number, rawHeaders: string[], keepAlive: boolean, keepAliveMs: number | undefined): void;
  /** A piece of the body; false asks the caller to stop feeding until it resumes. */
  onBody(chunk: Buffer): boolean;
  onEnd(): void;
}

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailers' | 'close' | 'done';

const CRLF2 = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
/**
 * Common field names, lower-case, by length: a name in the head that matches one (letters in
 * any case) is that shared string, with no slice, token check or lower-casing of its own, and
 * later lookups (filters, the head's object) find it without hashing a new string.
 */
const KNOWN_BY_LENGTH: string[][] = [];
for (const name of [
  'accept-ranges', 'access-control-allow-credentials', 'access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-origin',
  'access-control-expose-headers', 'age', 'cache-control', 'connection', 'content-disposition', 'content-encoding', 'content-language', 'content-length',
  'content-location', 'content-range', 'content-security-policy', 'content-type', 'date', 'etag', 'expires', 'keep-alive', 'last-modified', 'link',
  'location', 'pragma', 'retry-after', 'server', 'set-cookie', 'strict-transport-security', 'trailer', 'transfer-encoding', 'vary', 'www-authenticate',
  'x-content-type-options', 'x-frame-options', 'x-powered-by', 'x-request-id',
]) {
  (KNOWN_BY_LENGTH[name.length] ??= []).push(name);
}

/** The known name text[start, start + length) is, ignoring the case of letters only; else undefined. */
function knownName(text: string, start: number, length: number): string | undefined {
  const candidates = KNOWN_BY_LENGTH[length];
  if (candidates === undefined) return undefined;
  outer: for (const name of candidates) {
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(start + i);
      const k = name.charCodeAt(i);
      if (c !== k && !(k >= 0x61 && k <= 0x7a && c === k - 0x20)) continue outer;
    }
    return name;
  }
  return undefined;
}

/** A Content-Length value (a number, or a list of the same number), checked against one seen before. */
function contentLength(value: string, prior: string | undefined): string {
  if (DIGITS.test(value)) {
    if (prior !== undefined && prior !== value) throw new H1Error('HPE_UNEXPECTED_CONTENT_LENGTH', 'invalid Content-Length');
    return value;
  }
  let length = prior;
  for (const part of value.split(',')) {
    const v = part.trim();
    if (!DIGITS.test(v) || (length !== undefined && length !== v)) throw new H1Error('HPE_UNEXPECTED_CONTENT_LENGTH', 'invalid Content-Length');
    length = v;
  }
  return length!;
}

/** The tokens of a Connection value, lower-cased already: made only when it is not one token. */
function connectionTokens(v: string): string[] {
  return v.split(',').map((t) => t.trim());
}

/** The status of a status line text[0, end): `HTTP/1.x NNN[ reason]`, or an H1Error. */
function statusOf(text: string, end: number): number {
  const d0 = text.charCodeAt(9) - 0x30;
  const d1 = text.charCodeAt(10) - 0x30;
  const d2 = text.charCodeAt(11) - 0x30;
  const minor = text.charCodeAt(7);
  const ok =
    end >= 12 &&
    text.startsWith('HTTP/1.') &&
    (minor === 0x30 || minor === 0x31) &&
    text.charCodeAt(8) === 0x20 &&
    d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9 &&
    (end === 12 || (text.charCodeAt(12) === 0x20 && !BAD_VALUE.test(text.slice(13, end))));
  if (!ok) throw new H1Error('HPE_INVALID_CONSTANT', 'invalid status line');
  return d0 * 100 + d1 * 10 + d2;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;
const DIGITS = /^[0-9]{1,15}$/;
const HEX = /^[0-9A-Fa-f]{1,12}$/;
const KEEP_ALIVE_TIMEOUT = /(?:^|[\s,;])timeout=([0-9]{1,9})/i;

export class ResponseParser {
  private state: State = 'head';
  /** Bytes of a head, a chunk-size line or trailers that arrived in pieces. */
  private pending: Buffer | undefined;
  /** Body bytes still due (Content-Length, or the current chunk). */
  private due = 0;
  private keepAlive = false;
  /** The bytes after the last body piece (bodyPiece). */
  private after: Buffer = EMPTY;

  constructor(
    private readonly sink: ResponseSink,
    /** A HEAD request's answer has no body, whatever its head says. */
    private headRequest: boolean,
    private readonly maxHeadBytes: number,
  ) {}

  /** Ready for the answer to the next request on the connection (one parser per connection). */
  reset(headRequest: boolean): void {
    this.state = 'head';
    this.pending = undefined;
    this.due = 0;
    this.keepAlive = false;
    this.after = EMPTY;
    this.headRequest = headRequest;
  }

  /** Whether the connection may carry another request once this answer has ended. */
  get reusable(): boolean {
    return this.state === 'done' && this.keepAlive;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** Whether the body runs to the connection's close (it ends well when the connection ends). */
  get closeDelimited(): boolean {
    return this.state === 'close';
  }

  /**
   * Reads `data`; returns the bytes not taken yet: those after the end of the answer, or, when
   * onBody asked for a pause, the rest of the input (to feed again on resume). A body that runs
   * to the close is handed over whole, pause or not.
   */
  feed(data: Buffer): Buffer | undefined {
    let buf = data;
    for (;;) {
      switch (this.state) {
        case 'head': {
          const head = this.takeLine(buf, CRLF2, this.maxHeadBytes, 'HPE_HEADER_OVERFLOW', 'response head over the size allowed');
          if (head === undefined) return undefined;
          buf = head.rest;
          this.readHead(head.text);
          break;
        }
        case 'length': {
          if (buf.length === 0) return undefined;
          const more = this.bodyPiece(buf);
          buf = this.after;
          if (this.due === 0) {
            this.state = 'done';
            this.sink.onEnd();
            return buf.length > 0 ? buf : undefined;
          }
          if (!more) return buf.length > 0 ? buf : undefined;
          break;
        }
        case 'chunk-size': {
          const line = this.takeLine(buf, '\r\n', 1024, 'HPE_INVALID_CHUNK_SIZE', 'chunk size line too long');
          if (line === undefined) return undefined;
          buf = line.rest;
          const semi = line.text.indexOf(';');
          const size = (semi === -1 ? line.text : line.text.slice(0, semi)).trimEnd();
          if (!HEX.test(size)) throw new H1Error('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size');
          this.due = parseInt(size, 16);
          this.state = this.due === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          if (buf.length === 0) return undefined;
          const more = this.bodyPiece(buf);
          buf = this.after;
          if (this.due === 0) this.state = 'chunk-data-end';
          if (!more) return buf.length > 0 ? buf : undefined;
          break;
        }
        case 'chunk-data-end': {
          const line = this.takeLine(buf, '\r\n', 2, 'HPE_STRICT', 'chunk data not followed by CRLF');
          if (line === undefined) return undefined;
          if (line.text !== '') throw new H1Error('HPE_STRICT', 'chunk data not followed by CRLF');
          buf = line.rest;
          this.state = 'chunk-size';
          break;
        }
        case 'trailers': {
          // Trailer fields are read and dropped (a proxy may not merge them into the head).
          const line = this.takeLine(buf, '\r\n', this.maxHeadBytes, 'HPE_HEADER_OVERFLOW', 'trailers over the size allowed');
          if (line === undefined) return undefined;
          buf = line.rest;
          if (line.text === '') {
            this.state = 'done';
            this.sink.onEnd();
            return buf.length > 0 ? buf : undefined;
          }
          break;
        }
        case 'close': {
          if (buf.length === 0) return undefined;
          this.sink.onBody(buf);
          return undefined;
        }
        case 'done':
          return buf.length > 0 ? buf : undefined;
      }
    }
  }

  /**
   * Hands the sink up to `due` bytes of `buf` (Content-Length or the current chunk); the bytes
   * after them go to `after`. Returns whether the sink wants more now.
   */
  private bodyPiece(buf: Buffer): boolean {
    const n = Math.min(this.due, buf.length);
    this.due -= n;
    if (n === buf.length) {
      this.after = EMPTY;
      return this.sink.onBody(buf);
    }
    this.after = buf.subarray(n);
    return this.sink.onBody(buf.subarray(0, n));
  }

  /** The connection ended: the end of a close-delimited body, or an answer cut short. */
  end(): void {
    if (this.state === 'close') {
      this.state = 'done';
      this.sink.onEnd();
      return;
    }
    if (this.state !== 'done') throw new H1Error('UND_ERR_SOCKET', 'other side closed');
  }

  /**
   * The text up to `end` (held across pieces in `pending`) and the bytes after it, or undefined
   * when `end` has not arrived yet.
   */
  private takeLine(buf: Buffer, end: Buffer | string, limit: number, code: string, tooLong: string): { text: string; rest: Buffer } | undefined {
    let whole = buf;
    let from = 0;
    if (this.pending) {
      // Look again from just before the joint: the terminator may straddle it.
      from = Math.max(0, this.pending.length - (end.length - 1));
      whole = Buffer.concat([this.pending, buf]);
    }
    const at = whole.indexOf(end, from);
    if (at === -1) {
      if (whole.length > limit) throw new H1Error(code, tooLong);
      this.pending = whole.length > 0 ? whole : undefined;
      return undefined;
    }
    if (at > limit) throw new H1Error(code, tooLong);
    this.pending = undefined;
    return { text: whole.toString('latin1', 0, at), rest: whole.subarray(at + end.length) };
  }

  private readHead(text: string): void {
    let eol = text.indexOf('\r\n');
    const status = statusOf(text, eol === -1 ? text.length : eol);
    const http10 = text.charCodeAt(7) === 0x30;
    const raw: string[] = [];
    let length: string | undefined;
    let chunked = false;
    let transferEncoding = false;
    let close = http10;
    let keepAliveMs: number | undefined;
    while (eol !== -1) {
      const start = eol + 2;
      eol = text.indexOf('\r\n', start);
      const end = eol === -1 ? text.length : eol;
      const colon = text.indexOf(':', start);
      if (colon <= start || colon > end) throw new H1Error('HPE_INVALID_HEADER_TOKEN', 'invalid header line');
      let lower = knownName(text, start, colon - start);
      if (lower === undefined) {
        const name = text.slice(start, colon);
        // A token: no space, so no folded line (obs-fold) either.
        if (!TOKEN.test(name)) throw new H1Error('HPE_INVALID_HEADER_TOKEN', 'invalid header name');
        lower = name.toLowerCase();
      }
      const value = text.slice(colon + 1, end).trim();
      // A CR or LF here is a bare one (lines end at CRLF).
      if (BAD_VALUE.test(value)) throw new H1Error('HPE_INVALID_HEADER_TOKEN', 'invalid header value');
      raw.push(lower, value);
      switch (lower) {
        case 'content-length':
          length = contentLength(value, length);
          break;
        case 'transfer-encoding': {
          transferEncoding = true;
          const codings = value.toLowerCase().split(',');
          chunked = codings[codings.length - 1]!.trim() === 'chunked';
          break;
        }
        case 'connection': {
          const v = value.toLowerCase();
          if (v === 'close' || (v !== 'keep-alive' && connectionTokens(v).includes('close'))) close = true;
          else if (http10 && (v === 'keep-alive' || connectionTokens(v).includes('keep-alive'))) close = false;
          break;
        }
        case 'keep-alive': {
          const k = KEEP_ALIVE_TIMEOUT.exec(value);
          if (k) keepAliveMs = Number(k[1]) * 1000;
          break;
        }
      }
    }
    if (status < 200) {
      if (status === 101) throw new H1Error('HPE_UNEXPECTED_UPGRADE', 'unexpected protocol switch');
      return; // interim answer: the final head follows
    }
    let state: State;
    if (this.headRequest || status === 204 || status === 304 || (!transferEncoding && length !== undefined && Number(length) === 0)) state = 'done';
    else if (transferEncoding) {
      // With both, Transfer-Encoding wins and the connection cannot be trusted after (RFC 9112 6.3).
      state = chunked ? 'chunk-size' : 'close';
      if (length !== undefined || !chunked) close = true;
    } else if (length !== undefined) state = 'length';
    else {
      state = 'close';
      close = true;
    }
    this.keepAlive = !close;
    this.due = state === 'length' ? Number(length) : 0;
    this.state = state;
    this.sink.onHead(status, raw, this.keepAlive, keepAliveMs);
    if (this.state === 'done') this.sink.onEnd();
  }
}
