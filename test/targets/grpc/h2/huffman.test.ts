/** HPACK Huffman decoding: the table rebuilt from code lengths, strings round-tripped, and the padding rules of RFC 7541 section 5.2. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODE_LENGTHS, CODES, huffmanDecode } from '../../../../src/targets/grpc/h2/huffman.js';
import { H2ProtocolError } from '../../../../src/targets/grpc/h2/errors.js';


/** A test-side encoder from the same table: codes, MSB first, padded with ones. */
function encode(s: string): Buffer {
  let bits = '';
  for (const ch of Buffer.from(s, 'latin1')) bits += CODES[ch]!.toString(2).padStart(CODE_LENGTHS[ch]!, '0');
  bits += '1'.repeat((8 - (bits.length % 8)) % 8);
  const out = Buffer.alloc(bits.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  return out;
}

test('the codes are those of RFC 7541 Appendix B (spot checks) and form a complete prefix code', () => {
  const known: Array<[number, number, number]> = [
    [0, 0x1ff8, 13], [32, 0x14, 6], [48, 0x0, 5], [97, 0x3, 5], [92, 0x7fff0, 19], [127, 0xffffffc, 28],
    [128, 0xfffe6, 20], [195, 0x7fff1, 19], [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
  ];
  for (const [sym, code, bits] of known) assert.deepEqual([CODES[sym], CODE_LENGTHS[sym]], [code, bits], `symbol ${sym}`);
  assert.equal(CODES.length, 257);
  // Kraft: the lengths of a complete prefix code sum to exactly 1 as 2^-length.
  assert.equal(CODE_LENGTHS.reduce((sum, l) => sum + 2 ** (30 - l), 0), 2 ** 30);
  // Prefix-free: no code is the start of another.
  const bits = CODES.map((c, s) => c.toString(2).padStart(CODE_LENGTHS[s]!, '0')).sort();
  for (let i = 1; i < bits.length; i++) assert.ok(!bits[i]!.startsWith(bits[i - 1]!), `${bits[i - 1]} prefixes ${bits[i]}`);
});

test('RFC 7541 C.4 strings decode, and any latin1 string round-trips', () => {
  assert.equal(huffmanDecode(Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex'), 0, 12), 'www.example.com');
  assert.equal(huffmanDecode(Buffer.from('a8eb10649cbf', 'hex'), 0, 6), 'no-cache');
  for (const s of ['', 'a', '0', 'application/grpc', 'grpc-status', '200', 'Ünïcödé ÿ', '\x00\x01\x7f\x80\xff']) {
    const e = encode(s);
    assert.equal(huffmanDecode(e, 0, e.length), s);
  }
  let seed = 7;
  for (let n = 0; n < 200; n++) {
    let s = '';
    for (let i = 0; i < n % 40; i++) s += String.fromCharCode((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256);
    const e = encode(s);
    const framed = Buffer.concat([Buffer.from([0xaa]), e, Buffer.from([0x55])]);
    assert.equal(huffmanDecode(framed, 1, 1 + e.length), s);
  }
});

test('padding longer than 7 bits, padding that is not ones, and an EOS inside are COMPRESSION_ERRORs', () => {
  const bad = (hex: string) => assert.throws(() => huffmanDecode(Buffer.from(hex, 'hex'), 0, hex.length / 2), (e: unknown) => e instanceof H2ProtocolError && e.code === 0x9);
  bad('07ff'); // '0' then 11 bits of ones
  bad('00'); // '0' then 000
  bad('ffffffff'); // EOS (30 ones) then 2 bits
  assert.equal(huffmanDecode(Buffer.from('07', 'hex'), 0, 1), '0'); // 00000 111
});

