/**
 * Decoding of HPACK's Huffman-coded strings (RFC 7541 section 5.2 and Appendix B). The code is
 * canonical: codes of one length are consecutive and shorter codes sort first, so the table is
 * rebuilt here from the code length of each of the 257 symbols (256 octets and EOS), and a code
 * is read as a number that falls in its length's range.
 */
import { H2_CODE, H2ProtocolError } from './errors.js';

/** Bits in the code of each symbol 0..255, then EOS (256), from RFC 7541 Appendix B. */
export const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6,
  7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23,
  21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22,
  22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28,
  27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27,
  26, 30,
];

const EOS = 256;
const MAX_BITS = 30;

/** Per code length: the first code of that length, how many there are, and where their symbols start in SYMBOLS. */
const FIRST = new Int32Array(MAX_BITS + 1);
const COUNT = new Int32Array(MAX_BITS + 1);
const OFFSET = new Int32Array(MAX_BITS + 1);
/** The symbols ordered by (code length, symbol): the order canonical codes are given out in. */
const SYMBOLS = new Uint16Array(CODE_LENGTHS.length);

/** Each symbol's code, for the tests (and an encoder, should one be needed). */
export const CODES: readonly number[] = buildTables();

function buildTables(): number[] {
  const order = CODE_LENGTHS.map((len, sym) => [len, sym] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const codes = new Array<number>(CODE_LENGTHS.length);
  let code = 0;
  let len = order[0]![0];
  order.forEach(([l, sym], i) => {
    code *= 2 ** (l - len);
    len = l;
    if (COUNT[l] === 0) {
      FIRST[l] = code;
      OFFSET[l] = i;
    }
    COUNT[l]!++;
    SYMBOLS[i] = sym;
    codes[sym] = code++;
  });
  return codes;
}

/** The octets `buf[start..end)` encode, as a latin1 string; throws COMPRESSION_ERROR for bad padding or an EOS inside. */
export function huffmanDecode(buf: Buffer, start: number, end: number): string {
  // Each symbol takes at least 5 bits.
  const out = Buffer.allocUnsafe(Math.ceil(((end - start) * 8) / 5));
  let n = 0;
  let code = 0;
  let bits = 0;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    for (let b = 7; b >= 0; b--) {
      code = code * 2 + ((byte >> b) & 1);
      bits++;
      const k = code - FIRST[bits]!;
      if (bits >= 5 && k >= 0 && k < COUNT[bits]!) {
        const sym = SYMBOLS[OFFSET[bits]! + k]!;
        if (sym === EOS) throw new H2ProtocolError(H2_CODE.COMPRESSION_ERROR, 'HPACK: EOS inside a Huffman string');
        out[n++] = sym;
        code = 0;
        bits = 0;
      } else if (bits > MAX_BITS) {
        throw new H2ProtocolError(H2_CODE.COMPRESSION_ERROR, 'HPACK: bad Huffman code');
      }
    }
  }
  // What is left must be padding: fewer than 8 bits, all ones (a prefix of EOS).
  if (bits > 7 || code !== 2 ** bits - 1) throw new H2ProtocolError(H2_CODE.COMPRESSION_ERROR, 'HPACK: bad Huffman padding');
  return out.toString('latin1', 0, n);
}
