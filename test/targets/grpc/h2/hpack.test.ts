/** HPACK decoding (static and dynamic table, eviction, size updates, errors) and the encoder's literal fields. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeaderBlockBuilder, HpackDecoder, indexedField, STATIC_FIELD, STATIC_NAME } from '../../../../src/targets/grpc/h2/hpack.js';
import { H2ProtocolError } from '../../../../src/targets/grpc/h2/errors.js';

const str = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]); // raw, length < 127
/** Literal with incremental indexing, new name (0x40). */
const indexedLiteral = (name: string, value: string) => Buffer.concat([Buffer.from([0x40]), str(name), str(value)]);
const block = (...parts: Array<Buffer | number[]>) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
const compressionError = (e: unknown) => e instanceof H2ProtocolError && e.code === 0x9;

test('static fields, literals with and without indexing, and the dynamic table newest first (RFC 7541 section 2.3.3)', () => {
  const d = new HpackDecoder();
  // :status 200 (index 8), grpc-status as a new indexed literal, content-type by static name (literal without indexing, 0x0f 0x10 = 31).
  const first = d.decode(block([0x88], indexedLiteral('grpc-status', '0'), [0x0f, 0x10], str('application/grpc'), indexedLiteral('x-a', '1')));
  assert.deepEqual(first, { ':status': '200', 'grpc-status': '0', 'content-type': 'application/grpc', 'x-a': '1' });
  // 62 is the newest entry (x-a), 63 the one before (grpc-status).
  assert.deepEqual(d.decode(block([0xbe, 0xbf])), { 'x-a': '1', 'grpc-status': '0' });
  // A never-indexed literal (0x10) is not added: 62 is still x-a.
  assert.deepEqual(d.decode(block([0x10], str('secret'), str('s'), [0xbe])), { secret: 's', 'x-a': '1' });
  // A literal with incremental indexing that names dynamic entry 62 (x-a): the new x-a becomes 62, the old one 63.
  assert.deepEqual(d.decode(block([0x40 | 0x3e], str('2'))), { 'x-a': '2' });
  assert.deepEqual(d.decode(block([0xbe, 0xbf])), { 'x-a': '2, 1' });
});

test('repeated names join with ", " and set-cookie becomes an array, as Node gives them', () => {
  const d = new HpackDecoder();
  const out = d.decode(block([0x00], str('x-m'), str('a'), [0x00], str('x-m'), str('b'), [0x00], str('set-cookie'), str('c=1'), [0x00], str('set-cookie'), str('d=2')));
  assert.deepEqual(out, { 'x-m': 'a, b', 'set-cookie': ['c=1', 'd=2'] });
});

test('the table evicts oldest first at its size, and a size update at the start of a block shrinks it', () => {
  const d = new HpackDecoder(100);
  // Each entry: 3 + 3 + 32 = 38 octets, so two fit in 100.
  d.decode(block(indexedLiteral('x-1', 'aaa'), indexedLiteral('x-2', 'bbb'), indexedLiteral('x-3', 'ccc')));
  assert.deepEqual(d.decode(block([0xbe, 0xbf])), { 'x-3': 'ccc', 'x-2': 'bbb' });
  assert.throws(() => d.decode(block([0xc0])), compressionError); // x-1 was evicted
  // Size update to 0 empties the table.
  assert.throws(() => d.decode(block([0x20, 0xbe])), compressionError);
  assert.deepEqual(d.decode(block([0x82])), { ':method': 'GET' });
  // Growing past what this side allowed, or an update after a field, is an error.
  assert.throws(() => new HpackDecoder(100).decode(block([0x3f, 0x46])), compressionError); // 31 + 70 = 101
  assert.throws(() => new HpackDecoder().decode(block([0x82, 0x20])), compressionError);
});

test('index 0, an index past the table, cut strings and integers, and an over-long header list are refused', () => {
  const d = () => new HpackDecoder(4096, 200);
  assert.throws(() => d().decode(block([0x80])), compressionError);
  assert.throws(() => d().decode(block([0xff, 0x00])), compressionError); // 127: past static and empty dynamic
  assert.throws(() => d().decode(block([0x00, 0x05, 0x61])), compressionError);
  assert.throws(() => d().decode(block([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), compressionError);
  assert.throws(() => d().decode(block([0x00], str('x'), str('v'.repeat(120)), [0x00], str('y'), str('v'.repeat(120)))), (e: unknown) => e instanceof H2ProtocolError && e.code === 0x1);
});

test('integers past one prefix: a 300-octet literal value and index 70 decode', () => {
  const d = new HpackDecoder();
  const long = 'v'.repeat(300);
  // 300 with a 7-bit prefix: 0x7f, then 300 - 127 = 173 = 0xad 0x01.
  const out = d.decode(block([0x40], str('x-long'), [0x7f, 0xad, 0x01], Buffer.from(long)));
  assert.equal(out['x-long'], long);
  for (let i = 0; i < 8; i++) d.decode(indexedLiteral(`x-${i}`, 'v'));
  // Index 70 = 62 + 8: the x-long entry; 70 with a 7-bit prefix fits in one octet.
  assert.deepEqual(d.decode(block([0x80 | 70])), { 'x-long': long });
});

test('the encoder writes fields the decoder reads back, and refuses names and values HTTP/2 does not allow', () => {
  const built = new HeaderBlockBuilder()
    .raw(indexedField(STATIC_FIELD.methodPost))
    .raw(indexedField(STATIC_FIELD.schemeHttps))
    .add(':authority', 'svc:50051', STATIC_NAME.authority)
    .add(':path', `/pkg.Svc/${'M'.repeat(200)}`, STATIC_NAME.path)
    .add('content-type', 'application/grpc', STATIC_NAME.contentType)
    .add('te', 'trailers')
    .add('x-multi', 'a')
    .add('x-multi', 'b')
    .build();
  assert.deepEqual(new HpackDecoder().decode(built), {
    ':method': 'POST',
    ':scheme': 'https',
    ':authority': 'svc:50051',
    ':path': `/pkg.Svc/${'M'.repeat(200)}`,
    'content-type': 'application/grpc',
    te: 'trailers',
    'x-multi': 'a, b',
  });
  const b = () => new HeaderBlockBuilder();
  assert.throws(() => b().add('X-Upper', 'v'), TypeError);
  assert.throws(() => b().add('connection', 'close'), TypeError);
  assert.throws(() => b().add('te', 'gzip'), TypeError);
  assert.throws(() => b().add('x-ok', 'a\r\nx-injected: 1'), TypeError);
  assert.throws(() => b().add('bad name', 'v'), TypeError);
});
