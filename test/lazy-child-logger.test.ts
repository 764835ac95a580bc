/** Each request's logger is made only when something logs through it (src/lazy-child-logger.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { createLogger } from '../src/logger.js';
import { LazyChildLogger, lazyChildLoggerFactory } from '../src/lazy-child-logger.js';

function sinkLogger(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(level, { write: (text: string) => void lines.push(...text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)) });
  let children = 0;
  // pino children inherit from their parent, so the count wraps the method for them too.
  const child = logger.child;
  logger.child = function (this: typeof logger, ...args: Parameters<typeof child>) {
    children++;
    return child.apply(this, args);
  } as typeof logger.child;
  return { logger, lines, children: () => children };
}

test('a request that logs nothing makes no child logger; one that logs gets its reqId on the line', async (t) => {
  const { logger, lines, children } = sinkLogger();
  const app = Fastify({ loggerInstance: logger, childLoggerFactory: lazyChildLoggerFactory, disableRequestLogging: true, genReqId: () => 'rid-1' });
  app.get('/quiet', async () => 'ok');
  app.get('/loud', async (request) => {
    request.log.warn({ n: 1 }, 'something to say');
    request.log.info('and more');
    return 'ok';
  });
  await app.ready();
  t.after(() => app.close());
  const before = children();
  assert.equal((await app.inject('/quiet')).statusCode, 200);
  assert.equal(children(), before, 'no child made');
  assert.equal((await app.inject('/loud')).statusCode, 200);
  assert.equal(children(), before + 1, 'one child, made once, for both lines');
  const said = lines.filter((l) => l.msg === 'something to say' || l.msg === 'and more');
  assert.equal(said.length, 2);
  for (const l of said) assert.equal(l.reqId, 'rid-1');
  assert.equal(said[0]!.n, 1);
  assert.equal(said[0]!.level, 40);
});

test('level reads through to the parent until the child exists; setting it makes the child', () => {
  const { logger, lines } = sinkLogger('warn');
  const lazy = new LazyChildLogger(logger, { reqId: 'r' });
  assert.equal(lazy.level, 'warn');
  lazy.info('dropped at warn');
  lazy.level = 'debug';
  assert.equal(lazy.level, 'debug');
  assert.equal(logger.level, 'warn', 'the parent keeps its level');
  lazy.debug('kept at debug');
  assert.deepEqual(lines.map((l) => l.msg), ['kept at debug']);
  const grandchild = lazy.child({ plugin: 'x' });
  grandchild.warn('from a grandchild');
  const last = lines.at(-1)!;
  assert.equal(last.reqId, 'r');
  assert.equal(last.plugin, 'x');
});
