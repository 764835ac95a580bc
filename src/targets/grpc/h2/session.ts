/**
 * One HTTP/2 client connection (RFC 9113) carrying gRPC calls as streams: the connection
 * preface and settings, HEADERS (+ CONTINUATION) and DATA out, HPACK-decoded headers and DATA
 * in, flow control both ways, RST_STREAM, PING and GOAWAY. Frames written in one turn of the
 * event loop go out in one socket write.
 *
 * It is what node:http2's client does for the gateway's calls, without a Duplex stream, an
 * AsyncResource and an nghttp2 round trip per call: the REST->gRPC row's CPU per request is
 * measured in bench/README.md. It has no server push (disabled in SETTINGS), no priorities and
 * no PING of its own.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http2';
import { H2_CODE, H2ProtocolError } from './errors.js';
import {
  DEFAULT_MAX_FRAME,
  FLAG,
  FRAME,
  FrameReader,
  frame,
  frameHeader,
  goawayFrame,
  PREFACE,
  rstStreamFrame,
  SETTING,
  settingsFrame,
  windowUpdateFrame,
} from './frames.js';
import { HpackDecoder } from './hpack.js';

/** The window each stream gets (SETTINGS_INITIAL_WINDOW_SIZE) and the connection's: received octets are given back at half. */
export const STREAM_WINDOW = 1 << 20;
export const CONNECTION_WINDOW = 1 << 24;
const DEFAULT_WINDOW = 65_535;
const MAX_WINDOW = 2 ** 31 - 1;
const LAST_STREAM_ID = 2 ** 31 - 1;
/** The most octets of headers (HPACK entry sizes) one block may decode to, and the most octets of one encoded block. */
export const MAX_HEADER_LIST = 64 * 1024;
const MAX_HEADER_BLOCK = 256 * 1024;

/** What a stream hears. Exactly one of onEnd, onReset, onRefused and onLost is called, last; not after the caller reset the stream. */
export interface StreamListener {
  /** A header block: the response headers, then trailers. `endStream` is set on the last block of the stream. */
  onHeaders(headers: IncomingHttpHeaders, endStream: boolean): void;
  onData(chunk: Buffer): void;
  /** The server ended the stream (END_STREAM), after the last onHeaders or onData. */
  onEnd(): void;
  /** The server reset the stream with this HTTP/2 error code. */
  onReset(code: number): void;
  /** The stream is lost with the connection. */
  onLost(error: Error | undefined, connected: boolean): void;
  /**
   * The server never took the stream, so it may safely start again elsewhere: a GOAWAY named an
   * earlier stream as the last it processes, or this session ran out of stream ids. `why` says which.
   */
  onRefused(why: Error): void;
}

/** One request stream. */
export class H2Stream {
  /** 0 while it waits for room under the server's SETTINGS_MAX_CONCURRENT_STREAMS. */
  id = 0;
  closed = false;
  sendWindow = 0;
  /** Received DATA octets not yet given back in a WINDOW_UPDATE. */
  unacked = 0;
  /** Body octets not sent yet (flow control), and whether that is all of it. */
  pending: Buffer | undefined;

  constructor(
    readonly block: Buffer,
    body: Buffer,
    readonly listener: StreamListener,
  ) {
    this.pending = body;
  }
}

export interface SessionTls {
  readonly ca?: string;
  readonly key?: string;
  readonly cert?: string;
  readonly servername?: string;
}

export class H2Session {
  connected = false;
  private destroyed = false;
  /** Takes no new streams: GOAWAY received, closing, or out of stream ids. */
  private draining = false;
  private closing = false;
  private lostError: Error | undefined;
  private readonly socket: net.Socket;
  private readonly streams = new Map<number, H2Stream>();
  private readonly waiting: H2Stream[] = [];
  private nextId = 1;
  private peerMaxConcurrent = Infinity;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = DEFAULT_MAX_FRAME;
  private connSendWindow = DEFAULT_WINDOW;
  private connUnacked = 0;
  /** Set once the first frame from the server was seen to be SETTINGS. */
  private prefaceSeen = false;
  private firstBytes: Buffer | undefined;
  private readonly reader = new FrameReader(DEFAULT_MAX_FRAME);
  private readonly decoder = new HpackDecoder(4096, MAX_HEADER_LIST);
  /** A HEADERS frame waiting for its CONTINUATION frames. */
  private partial: { id: number; endStream: boolean; parts: Buffer[]; size: number } | undefined;
  /** onGone was called. */
  private goneCalled = false;
  private out: Buffer[] = [];
  private flushQueued = false;
  private readonly flushNow = () => this.flush();

  /**
   * @param onGone called once when the session takes no more streams (GOAWAY, closed, failed).
   */
  constructor(
    host: string,
    port: number,
    secure: SessionTls | undefined,
    private readonly onGone: () => void,
  ) {
    if (secure) {
      const servername = secure.servername ?? (net.isIP(host) ? undefined : host);
      const s = tls.connect({ host, port, servername, ca: secure.ca, key: secure.key, cert: secure.cert, ALPNProtocols: ['h2'] });
      s.once('secureConnect', () => {
        if (s.alpnProtocol !== 'h2') return this.fail(new Error(`${host}:${port} did not agree to HTTP/2 (ALPN: ${String(s.alpnProtocol)})`));
        this.connected = true;
      });
      this.socket = s;
    } else {
      this.socket = net.connect({ host, port });
      this.socket.once('connect', () => {
        this.connected = true;
      });
    }
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    this.socket.on('error', (err) => {
      this.lostError ??= err;
    });
    this.socket.on('close', () => this.lose());
    this.queue(PREFACE);
    this.queue(
      settingsFrame([
        [SETTING.ENABLE_PUSH, 0],
        [SETTING.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
        [SETTING.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST],
      ]),
    );
    this.queue(windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
  }

  /** True while the session takes new streams. */
  get open(): boolean {
    return !this.destroyed && !this.draining && !this.closing;
  }

  /** Starts a stream: the header block, then the body (END_STREAM on its last DATA frame). Throws when the session takes no more streams. */
  request(block: Buffer, body: Buffer, listener: StreamListener): H2Stream {
    if (!this.open) throw new Error('the HTTP/2 session takes no more streams');
    const s = new H2Stream(block, body, listener);
    if (this.streams.size >= this.peerMaxConcurrent) this.waiting.push(s);
    else this.begin(s);
    return s;
  }

  /** Resets a stream this side no longer wants (RST_STREAM with `code`); its listener hears nothing more. */
  reset(s: H2Stream, code: number): void {
    if (s.closed) return;
    if (s.id === 0) {
      s.closed = true;
      this.waiting.splice(this.waiting.indexOf(s), 1);
      return;
    }
    if (!this.destroyed) this.queue(rstStreamFrame(s.id, code));
    this.remove(s);
  }

  /** Takes no more streams; the connection ends once those open have ended. */
  close(): void {
    if (this.closing || this.destroyed) return;
    this.closing = true;
    this.gone();
    this.endIfIdle();
  }

  private begin(s: H2Stream): void {
    if (this.nextId > LAST_STREAM_ID) {
      // Out of stream ids: this session drains, and the streams not begun are refused (the channel opens another).
      this.draining = true;
      this.gone();
      const refused = [s, ...this.waiting.splice(0)];
      for (const w of refused) w.closed = true;
      // Not from inside request(): its caller gets the stream before hearing of it.
      queueMicrotask(() => {
        for (const w of refused) w.listener.onRefused(new Error('out of HTTP/2 stream ids'));
      });
      this.endIfIdle();
      return;
    }
    s.id = this.nextId;
    this.nextId += 2;
    s.sendWindow = this.peerInitialWindow;
    this.streams.set(s.id, s);
    const block = s.block;
    if (block.length <= this.peerMaxFrame) {
      this.queue(frameHeader(FRAME.HEADERS, FLAG.END_HEADERS, s.id, block.length));
      this.queue(block);
    } else {
      for (let off = 0; off < block.length; off += this.peerMaxFrame) {
        const part = block.subarray(off, off + this.peerMaxFrame);
        const last = off + this.peerMaxFrame >= block.length;
        this.queue(frameHeader(off === 0 ? FRAME.HEADERS : FRAME.CONTINUATION, last ? FLAG.END_HEADERS : 0, s.id, part.length));
        this.queue(part);
      }
    }
    this.sendBody(s);
  }

  /** Sends as much of the stream's body as the windows allow. */
  private sendBody(s: H2Stream): void {
    let body = s.pending;
    while (body !== undefined) {
      const n = Math.min(body.length, s.sendWindow, this.connSendWindow, this.peerMaxFrame);
      if (n <= 0 && body.length > 0) break;
      const last = n === body.length;
      this.queue(frameHeader(FRAME.DATA, last ? FLAG.END_STREAM : 0, s.id, n));
      if (n > 0) this.queue(body.subarray(0, n));
      s.sendWindow -= n;
      this.connSendWindow -= n;
      body = last ? undefined : body.subarray(n);
    }
    s.pending = body;
  }

  private onBytes(chunk: Buffer): void {
    if (this.destroyed) return;
    if (!this.prefaceSeen) {
      // The server's preface is a SETTINGS frame (RFC 9113 section 3.4): octet 3 of the first
      // frame header is its type. Anything else is not HTTP/2, most often an HTTP/1.1 server.
      const first = this.firstBytes ? Buffer.concat([this.firstBytes, chunk]) : chunk;
      if (first.length < 4) this.firstBytes = first;
      else {
        this.firstBytes = undefined;
        this.prefaceSeen = true;
        if (first[3] !== FRAME.SETTINGS) {
          const start = first.toString('latin1', 0, Math.min(first.length, 40)).replace(/[^\x20-\x7e]+/g, ' ').trim();
          return this.fail(new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, `the server does not speak HTTP/2 (it answered "${start}")`));
        }
      }
    }
    try {
      this.reader.push(chunk, (type, flags, id, payload) => {
        if (!this.destroyed) this.onFrame(type, flags, id, payload);
      });
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.partial && type !== FRAME.CONTINUATION) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, 'a frame between HEADERS and its CONTINUATION');
    switch (type) {
      case FRAME.DATA:
        return this.onDataFrame(flags, id, payload);
      case FRAME.HEADERS: {
        if (id === 0) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, 'HEADERS on stream 0');
        let start = 0;
        let end = payload.length;
        if (flags & FLAG.PADDED) {
          if (payload.length === 0) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, 'HEADERS padded with no pad length');
          end -= payload[0]!;
          start = 1;
        }
        if (flags & FLAG.PRIORITY) start += 5;
        if (start > end) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, 'HEADERS padding past the frame');
        const fragment = payload.subarray(start, end);
        const endStream = (flags & FLAG.END_STREAM) !== 0;
        if (flags & FLAG.END_HEADERS) return this.onHeaderBlock(id, endStream, fragment);
        this.partial = { id, endStream, parts: [Buffer.from(fragment)], size: fragment.length };
        return;
      }
      case FRAME.CONTINUATION: {
        const p = this.partial;
        if (!p || p.id !== id) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, 'CONTINUATION without HEADERS');
        p.parts.push(Buffer.from(payload));
        p.size += payload.length;
        if (p.size > MAX_HEADER_BLOCK) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, `a header block over ${MAX_HEADER_BLOCK} octets`);
        if (flags & FLAG.END_HEADERS) {
          this.partial = undefined;
          this.onHeaderBlock(id, p.endStream, Buffer.concat(p.parts, p.size));
        }
        return;
      }
      case FRAME.RST_STREAM: {
        if (payload.length !== 4) throw new H2ProtocolError(H2_CODE.FRAME_SIZE_ERROR, 'RST_STREAM of the wrong size');
        const s = this.streams.get(id);
        if (!s) return;
        this.remove(s);
        s.listener.onReset(payload.readUInt32BE(0));
        return;
      }
      case FRAME.SETTINGS:
        return this.onSettings(flags, id, payload);
      case FRAME.PING:
        if (payload.length !== 8) throw new H2ProtocolError(H2_CODE.FRAME_SIZE_ERROR, 'PING of the wrong size');
        if ((flags & FLAG.ACK) === 0) this.queue(frame(FRAME.PING, FLAG.ACK, 0, Buffer.from(payload)));
        return;
      case FRAME.GOAWAY:
        if (payload.length < 8) throw new H2ProtocolError(H2_CODE.FRAME_SIZE_ERROR, 'GOAWAY too short');
        return this.onGoaway(payload.readUInt32BE(0) & 0x7fffffff, payload.readUInt32BE(4));
      case FRAME.WINDOW_UPDATE: {
        if (payload.length !== 4) throw new H2ProtocolError(H2_CODE.FRAME_SIZE_ERROR, 'WINDOW_UPDATE of the wrong size');
        const inc = payload.readUInt32BE(0) & 0x7fffffff;
        if (id === 0) {
          if (inc === 0) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0');
          this.connSendWindow += inc;
          if (this.connSendWindow > MAX_WINDOW) throw new H2ProtocolError(H2_CODE.FLOW_CONTROL_ERROR, 'the connection window past 2^31-1');
          for (const s of this.streams.values()) if (s.pending) this.sendBody(s);
        } else {
          const s = this.streams.get(id);
          if (!s) return;
          s.sendWindow += inc;
          if (s.pending) this.sendBody(s);
        }
        return;
      }
      case FRAME.PUSH_PROMISE:
        throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, 'PUSH_PROMISE with push disabled');
      default:
        return; // PRIORITY and unknown types are ignored
    }
  }

  private onDataFrame(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, 'DATA on stream 0');
    // Flow control counts the whole payload, padding included, whether or not the stream is still wanted.
    this.connUnacked += payload.length;
    if (this.connUnacked >= CONNECTION_WINDOW / 2) {
      this.queue(windowUpdateFrame(0, this.connUnacked));
      this.connUnacked = 0;
    }
    const s = this.streams.get(id);
    if (!s) return;
    let data = payload;
    if (flags & FLAG.PADDED) {
      const pad = payload[0]!;
      if (pad + 1 > payload.length) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, 'DATA padding past the frame');
      data = payload.subarray(1, payload.length - pad);
    }
    s.unacked += payload.length;
    if (data.length > 0) s.listener.onData(data);
    if (s.closed) return;
    if (flags & FLAG.END_STREAM) return this.remoteEnd(s);
    if (s.unacked >= STREAM_WINDOW / 2) {
      this.queue(windowUpdateFrame(s.id, s.unacked));
      s.unacked = 0;
    }
  }

  private onHeaderBlock(id: number, endStream: boolean, block: Buffer): void {
    // Every block is decoded, wanted or not: the decoder's table follows the server's encoder.
    const headers = this.decoder.decode(block);
    const s = this.streams.get(id);
    if (!s) return;
    s.listener.onHeaders(headers, endStream);
    if (endStream && !s.closed) this.remoteEnd(s);
  }

  private onSettings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & FLAG.ACK) return;
    if (payload.length % 6 !== 0) throw new H2ProtocolError(H2_CODE.FRAME_SIZE_ERROR, 'SETTINGS of the wrong size');
    for (let off = 0; off < payload.length; off += 6) {
      const key = payload.readUInt16BE(off);
      const value = payload.readUInt32BE(off + 2);
      if (key === SETTING.MAX_CONCURRENT_STREAMS) this.peerMaxConcurrent = value;
      else if (key === SETTING.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) throw new H2ProtocolError(H2_CODE.FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE past 2^31-1');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      } else if (key === SETTING.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME || value > 2 ** 24 - 1) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
        this.peerMaxFrame = value;
      }
      // HEADER_TABLE_SIZE: the encoder never uses the server's table. The rest is advice.
    }
    this.queue(frame(FRAME.SETTINGS, FLAG.ACK, 0, Buffer.alloc(0)));
    for (const s of this.streams.values()) if (s.pending) this.sendBody(s);
    this.startWaiting();
  }

  private onGoaway(lastId: number, code: number): void {
    this.draining = true;
    this.gone();
    const refused = new Error(`the server went away (GOAWAY, HTTP/2 code ${code}) before it took the call`);
    for (const s of [...this.streams.values()]) {
      if (s.id <= lastId) continue;
      this.remove(s);
      s.listener.onRefused(refused);
    }
    for (const s of this.waiting.splice(0)) {
      s.closed = true;
      s.listener.onRefused(refused);
    }
    this.endIfIdle();
  }

  private remoteEnd(s: H2Stream): void {
    // The server answered before taking all of the body: it wants no more of it.
    if (s.pending !== undefined) this.queue(rstStreamFrame(s.id, H2_CODE.NO_ERROR));
    this.remove(s);
    s.listener.onEnd();
  }

  private remove(s: H2Stream): void {
    s.closed = true;
    s.pending = undefined;
    this.streams.delete(s.id);
    this.startWaiting();
    this.endIfIdle();
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.streams.size < this.peerMaxConcurrent && this.open) this.begin(this.waiting.shift()!);
  }

  private endIfIdle(): void {
    if (this.destroyed || this.open || this.streams.size > 0 || this.waiting.length > 0) return;
    this.queue(goawayFrame(0, H2_CODE.NO_ERROR));
    this.flush();
    this.socket.end();
  }

  /** A connection error: GOAWAY with its code when it is the server's fault, then every stream is lost. */
  private fail(err: Error): void {
    if (this.destroyed) return;
    this.lostError ??= err;
    if (err instanceof H2ProtocolError) {
      this.queue(goawayFrame(0, err.code)); // the server started no streams of its own
      this.flush();
    }
    this.socket.destroy();
    this.lose();
  }

  /** The socket closed (or is being destroyed): every stream still open is lost. */
  private lose(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.gone();
    const lost = [...this.streams.values(), ...this.waiting.splice(0)];
    this.streams.clear();
    for (const s of lost) {
      s.closed = true;
      s.listener.onLost(this.lostError, this.connected);
    }
  }

  private gone(): void {
    if (this.goneCalled) return;
    this.goneCalled = true;
    this.onGone();
  }

  private queue(b: Buffer): void {
    this.out.push(b);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushNow);
    }
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.out.length === 0 || this.socket.destroyed) {
      this.out = [];
      return;
    }
    const out = this.out;
    this.out = [];
    this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  }
}
