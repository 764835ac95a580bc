import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H1Error } from '../../../src/upstream/h1/errors.js';
import { ResponseParser } from '../../../src/upstream/h1/response-parser.js';

interface Parsed {
  status?: number;
  headers?: string[];
  keepAlive?: boolean;
  hintMs?: number | undefined;
  body: string;
  ended: boolean;
  parser: ResponseParser;
  rest: Buffer[];
}

/** Feeds `wire` whole, or one byte at a time; collects what the sink was told. */
function parse(wire: string, opts: { bytewise?: boolean; head?: boolean; pauseAt?: number } = {}): Parsed {
  const out: Parsed = { body: '', ended: false, rest: [], parser: undefined as unknown as ResponseParser };
  let pieces = 0;
  const parser = new ResponseParser(
    {
      onHead(status, headers, keepAlive, hintMs) {
        Object.assign(out, { status, headers, keepAlive, hintMs });
      },
      onBody(chunk) {
        out.body += chunk.toString('latin1');
        return ++pieces !== opts.pauseAt;
      },
      onEnd() {
        assert.equal(out.ended, false, 'onEnd once');
        out.ended = true;
      },
    },
    opts.head ?? false,
    1024,
  );
  out.parser = parser;
  const bytes = Buffer.from(wire, 'latin1');
  const feeds = opts.bytewise ? [...bytes].map((b) => Buffer.from([b])) : [bytes];
  for (const f of feeds) {
    const rest = parser.feed(f);
    if (rest) out.rest.push(rest);
  }
  return out;
}

function parseError(wire: string, opts: { bytewise?: boolean } = {}): H1Error {
  try {
    parse(wire, opts);
  } catch (err) {
    assert.ok(err instanceof H1Error);
    return err;
  }
  assert.fail(`no error for ${JSON.stringify(wire)}`);
}

test('a Content-Length answer, whole or one byte at a time: head (names lower-cased, order kept), body, end, reusable', () => {
  const wire = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 5\r\n\r\nhello';
  for (const bytewise of [false, true]) {
    const p = parse(wire, { bytewise });
    assert.equal(p.status, 200);
    assert.deepEqual(p.headers, ['content-type', 'text/plain', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'content-length', '5']);
    assert.equal(p.body, 'hello');
    assert.equal(p.ended, true);
    assert.equal(p.parser.reusable, true);
    assert.deepEqual(p.rest, []);
  }
});

test('field names in any case come out lower-case, known ones or not; a status line needs no reason phrase', () => {
  const p = parse('HTTP/1.1 404\r\nCONTENT-LENGTH: 2\r\nX-Custom-THING: v\r\ncOnTeNt-TyPe: a/b\r\n\r\nno');
  assert.equal(p.status, 404);
  assert.deepEqual(p.headers, ['content-length', '2', 'x-custom-thing', 'v', 'content-type', 'a/b']);
  assert.equal(p.body, 'no');
});

test('chunked bodies, with chunk extensions and trailers (dropped), whole or one byte at a time', () => {
  const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n';
  for (const bytewise of [false, true]) {
    const p = parse(wire, { bytewise });
    assert.equal(p.body, 'hello 0123456789');
    assert.equal(p.ended, true);
    assert.equal(p.parser.reusable, true);
  }
});

test('no Content-Length and no Transfer-Encoding: the body runs to the close, and the connection is not reused', () => {
  const p = parse('HTTP/1.1 200 OK\r\n\r\nsome body');
  assert.equal(p.body, 'some body');
  assert.equal(p.ended, false);
  assert.equal(p.parser.closeDelimited, true);
  p.parser.end();
  assert.equal(p.ended, true);
  assert.equal(p.parser.reusable, false);
});

test('answers without a body: to HEAD, 204, 304, Content-Length 0', () => {
  const head = parse('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', { head: true });
  assert.deepEqual([head.body, head.ended, head.parser.reusable], ['', true, true]);
  for (const wire of ['HTTP/1.1 204 No Content\r\n\r\n', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']) {
    const p = parse(wire);
    assert.deepEqual([p.body, p.ended, p.parser.reusable], ['', true, true], wire);
  }
});

test('interim answers (100, 103) are skipped; the final head is the one handed over', () => {
  const p = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok', { bytewise: true });
  assert.equal(p.status, 201);
  assert.deepEqual(p.headers, ['content-length', '2']);
  assert.equal(p.body, 'ok');
});

test('keep-alive: Connection close, HTTP/1.0, Transfer-Encoding with Content-Length end reuse; the Keep-Alive timeout hint is read', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').parser.reusable, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').parser.reusable, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').parser.reusable, true);
  const both = parse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
  assert.deepEqual([both.body, both.ended, both.parser.reusable], ['ok', true, false]);
  const hinted = parse('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n');
  assert.equal(hinted.hintMs, 5000);
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello').body, 'hello');
});

test('bytes after the answer are handed back (the connection cannot be trusted with another request)', () => {
  const p = parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA');
  assert.equal(p.body, 'ok');
  assert.deepEqual(
    p.rest.map((b) => b.toString()),
    ['EXTRA'],
  );
});

test('a pause asked for by onBody hands back the rest of the input, which reads on when fed again', () => {
  const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n';
  const p = parse(wire, { pauseAt: 1 });
  assert.equal(p.body, 'abc');
  assert.equal(p.ended, false);
  assert.equal(p.rest.length, 1);
  assert.equal(p.parser.feed(p.rest[0]!), undefined);
  assert.equal(p.body, 'abcdef');
  assert.equal(p.ended, true);
});

test('malformed answers end with an H1Error: folded or bare-LF lines, bad names, disagreeing lengths, bad chunk sizes, heads too large, bad status lines, 101', () => {
  const cases: Array<[string, string]> = [
    ['HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\nContent-Length: 0\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\n: nameless\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n', 'HPE_STRICT'],
    [`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`, 'HPE_HEADER_OVERFLOW'],
    ['HTTP/2 200\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['ICY 200 OK\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/1.1 2000 OK\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/1.1 200OK\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/1.1 20x OK\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/1.2 200 OK\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/1.1 200 O\0K\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/1.1 200 OK\r\nContent\rLength: 5\r\n\r\nhello', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', 'HPE_UNEXPECTED_UPGRADE'],
  ];
  for (const [wire, code] of cases) {
    assert.equal(parseError(wire).code, code, JSON.stringify(wire));
    assert.equal(parseError(wire, { bytewise: true }).code, code, `${JSON.stringify(wire)} one byte at a time`);
  }
});

test('an answer cut short by the close is an error, in its head or its body', () => {
  const p = parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
  assert.throws(() => p.parser.end(), (err: H1Error) => err.code === 'UND_ERR_SOCKET');
  const inHead = parse('HTTP/1.1 200 OK\r\nContent-Le');
  assert.throws(() => inHead.parser.end(), (err: H1Error) => err.code === 'UND_ERR_SOCKET');
});
