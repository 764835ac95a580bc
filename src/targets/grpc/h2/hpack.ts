/**
 * HPACK (RFC 7541) as the gRPC client needs it: a decoder with the dynamic table, for the
 * headers and trailers servers send (nghttp2 and grpc-js index what repeats, so after the first
 * answer most fields are one octet), and an encoder of literal fields that never touches the
 * server's table (each request's fields are few and the loopback bytes cheap).
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { H2_CODE, H2ProtocolError } from './errors.js';
import { huffmanDecode } from './huffman.js';

/** RFC 7541 Appendix A: index 1..61. */
const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/** The static index of a field name the encoder refers to. */
export const STATIC_NAME = { authority: 1, path: 4, contentType: 31, userAgent: 58 } as const;
/** Whole fields of the static table the encoder sends as one octet. */
export const STATIC_FIELD = { methodPost: 3, schemeHttp: 6, schemeHttps: 7 } as const;

const EMPTY = Buffer.alloc(0);

/** Octets a table entry counts for (RFC 7541 section 4.1): strings here are latin1, one octet per character. */
const entrySize = (name: string, value: string) => name.length + value.length + 32;

function compressionError(message: string): H2ProtocolError {
  return new H2ProtocolError(H2_CODE.COMPRESSION_ERROR, `HPACK: ${message}`);
}

/** One decoder per connection: header blocks must be decoded in the order they arrive, every one of them. */
export class HpackDecoder {
  /** Newest last: dynamic index 1 is the last entry. */
  private readonly entries: Array<readonly [string, string]> = [];
  private size = 0;
  /** The table's current limit, as the encoder last set it. */
  private limit: number;
  private pos = 0;
  private buf: Buffer = EMPTY;

  /**
   * @param maxTableSize the SETTINGS_HEADER_TABLE_SIZE this side sent (the encoder may shrink its table below it, never grow past it).
   * @param maxListSize the most octets (entry sizes) a block may decode to.
   */
  constructor(
    private readonly maxTableSize = 4096,
    private readonly maxListSize = 64 * 1024,
  ) {
    this.limit = maxTableSize;
  }

  /** Decodes one whole header block into Node's header object shape (repeated names joined with ", ", set-cookie an array). */
  decode(block: Buffer): IncomingHttpHeaders {
    this.buf = block;
    this.pos = 0;
    const out: IncomingHttpHeaders = {};
    let listSize = 0;
    let fields = 0;
    while (this.pos < block.length) {
      const b = block[this.pos]!;
      let name: string;
      let value: string;
      if (b & 0x80) {
        const index = this.integer(7);
        if (index === 0) throw compressionError('index 0');
        [name, value] = this.field(index);
      } else if (b & 0x40) {
        [name, value] = this.literal(6);
        this.insert(name, value);
      } else if (b & 0x20) {
        // A table size update: only before the block's first field.
        if (fields > 0) throw compressionError('table size update after a field');
        const size = this.integer(5);
        if (size > this.maxTableSize) throw compressionError(`table size ${size} over the ${this.maxTableSize} allowed`);
        this.limit = size;
        this.evict(0);
        continue;
      } else {
        [name, value] = this.literal(4); // without indexing, or never indexed
      }
      fields++;
      listSize += entrySize(name, value);
      if (listSize > this.maxListSize) throw new H2ProtocolError(H2_CODE.PROTOCOL_ERROR, `header list over ${this.maxListSize} octets`);
      const had = out[name];
      if (had === undefined) out[name] = value;
      else if (Array.isArray(had)) had.push(value);
      else if (name === 'set-cookie') out[name] = [had, value];
      else out[name] = `${had}, ${value}`;
    }
    this.buf = EMPTY; // the block is not kept past its decoding
    return out;
  }

  private field(index: number): readonly [string, string] {
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const e = this.entries[this.entries.length - (index - STATIC_TABLE.length)];
    if (!e) throw compressionError(`index ${index} past the table`);
    return e;
  }

  private literal(prefix: number): [string, string] {
    const index = this.integer(prefix);
    const name = index === 0 ? this.string() : this.field(index)[0];
    return [name, this.string()];
  }

  private insert(name: string, value: string): void {
    const size = entrySize(name, value);
    this.evict(size);
    // An entry larger than the whole table empties it and is not kept.
    if (size <= this.limit) {
      this.entries.push([name, value]);
      this.size += size;
    }
  }

  /** Drops the oldest entries until `room` more octets fit under the limit. */
  private evict(room: number): void {
    let drop = 0;
    while (this.size + room > this.limit && drop < this.entries.length) {
      const [n, v] = this.entries[drop++]!;
      this.size -= entrySize(n, v);
    }
    if (drop > 0) this.entries.splice(0, drop);
  }

  /** An integer with an N-bit prefix (RFC 7541 section 5.1). */
  private integer(prefix: number): number {
    const mask = (1 << prefix) - 1;
    let value = this.buf[this.pos++]! & mask;
    if (value < mask) return value;
    for (let shift = 0; ; shift += 7) {
      if (this.pos >= this.buf.length) throw compressionError('integer cut short');
      if (shift > 21) throw compressionError('integer too large');
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
  }

  private string(): string {
    if (this.pos >= this.buf.length) throw compressionError('string cut short');
    const huffman = (this.buf[this.pos]! & 0x80) !== 0;
    const length = this.integer(7);
    const start = this.pos;
    const end = start + length;
    if (end > this.buf.length) throw compressionError('string cut short');
    this.pos = end;
    return huffman ? huffmanDecode(this.buf, start, end) : this.buf.toString('latin1', start, end);
  }
}

/** Octets an integer takes with an N-bit prefix. */
function integerLength(value: number, prefix: number): number {
  const mask = (1 << prefix) - 1;
  if (value < mask) return 1;
  let n = 2;
  for (value -= mask; value >= 0x80; value = Math.floor(value / 0x80)) n++;
  return n;
}

function writeInteger(out: Buffer, pos: number, value: number, prefix: number): number {
  const mask = (1 << prefix) - 1;
  if (value < mask) {
    out[pos++] = value;
    return pos;
  }
  out[pos++] = mask;
  for (value -= mask; value >= 0x80; value = Math.floor(value / 0x80)) out[pos++] = (value % 0x80) | 0x80;
  out[pos++] = value;
  return pos;
}

/** No CR, LF or NUL in a value (RFC 9113 section 8.2.1); names are checked where they are chosen. */
const BAD_VALUE = /[\r\n\0]/;
/** Lowercase token characters (RFC 9113 section 8.2). */
const NAME = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;
/** Connection-specific fields HTTP/2 forbids (RFC 9113 section 8.2.2). */
const CONNECTION_FIELDS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * Builds header blocks of literal fields "without indexing" (RFC 7541 section 6.2.2), names
 * and values as raw octets. `add` checks what it is given, throwing a TypeError for a name or
 * value HTTP/2 does not allow.
 */
export class HeaderBlockBuilder {
  /** Pre-encoded octets, or a field: its static name index (0: the name is a literal), name and value. */
  private parts: Array<Buffer | { nameIndex: number; name: string; value: string }> = [];
  private length = 0;

  /** Pre-encoded octets (a static field, or a block built before) at this point of the block. */
  raw(octets: Buffer): this {
    this.parts.push(octets);
    this.length += octets.length;
    return this;
  }

  /** A field whose name is static index `nameIndex` (0: the name is sent as a literal). */
  add(name: string, value: string, nameIndex = 0): this {
    if (nameIndex === 0) {
      if (!NAME.test(name) || CONNECTION_FIELDS.has(name)) throw new TypeError(`"${name}" is not a header name HTTP/2 allows`);
      if (name === 'te' && value !== 'trailers') throw new TypeError('te may only be "trailers" in HTTP/2');
    }
    if (BAD_VALUE.test(value)) throw new TypeError(`the value of "${name}" has a character HTTP/2 does not allow`);
    this.parts.push({ nameIndex, name, value });
    this.length +=
      nameIndex === 0
        ? 1 + integerLength(name.length, 7) + name.length + integerLength(value.length, 7) + value.length
        : integerLength(nameIndex, 4) + integerLength(value.length, 7) + value.length;
    return this;
  }

  build(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    let pos = 0;
    for (const p of this.parts) {
      if (Buffer.isBuffer(p)) {
        pos += p.copy(out, pos);
        continue;
      }
      if (p.nameIndex === 0) {
        out[pos++] = 0;
        pos = writeInteger(out, pos, p.name.length, 7);
        pos += out.write(p.name, pos, 'latin1');
      } else {
        pos = writeInteger(out, pos, p.nameIndex, 4);
      }
      pos = writeInteger(out, pos, p.value.length, 7);
      pos += out.write(p.value, pos, 'latin1');
    }
    return out;
  }
}

/** One octet: a whole static field (RFC 7541 section 6.1). */
export function indexedField(index: number): Buffer {
  return Buffer.from([0x80 | index]);
}
