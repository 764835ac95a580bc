import assert from 'node:assert/strict';
import { test } from 'node:test';
import FindMyWay from 'find-my-way';
import { compactTree } from '../../src/routing/compact-tree.js';
import { RouteTable } from '../../src/routing/route-table.js';

const PATHS = ['/', '/items', '/items/:id', '/items/:id/parts/:part', '/files/*', '/team/a/svc1', '/team/a/svc2', '/team/b/svc1', '/v/:major(\\d+)/x'];

function router() {
  const r = FindMyWay({ ignoreTrailingSlash: true });
  PATHS.forEach((p, i) => r.on(['GET', 'POST'], p, () => undefined, { i }));
  return r;
}

const LOOKUPS = ['/', '/items', '/items/7', '/items/7/parts/p9', '/files/a/b.css', '/team/a/svc1', '/team/a/svc2', '/team/b/svc1', '/team/b/svc2', '/v/2/x', '/v/two/x', '/items/'];
const answers = (r: ReturnType<typeof router>) =>
  LOOKUPS.map((u) =>
    (['GET', 'POST'] as const).map((m) => {
      const found = r.find(m, u);
      return JSON.stringify(found ? { store: found.store, params: { ...found.params } } : null);
    }),
  );

test('a compacted tree answers every lookup as before', () => {
  const plain = router();
  const compacted = router();
  const before = answers(compacted);
  assert.ok(compactTree(compacted) > PATHS.length);
  assert.deepEqual(answers(compacted), before);
  assert.deepEqual(answers(compacted), answers(plain));
});

test('empty child lists become one shared frozen array: an insert that would add to one throws instead of changing every node sharing it', () => {
  const r = router();
  compactTree(r);
  const trees = (r as unknown as { trees: Record<string, { staticChildrenNodes: unknown[]; parametricChildren: unknown[] }> }).trees;
  const root = trees.GET!;
  assert.equal(Object.isFrozen(root.parametricChildren), true, 'the root has no parametric child');
  assert.equal(Object.isFrozen(root.staticChildrenNodes), false, 'the root has static children: its own copy');
  assert.throws(() => r.on('GET', '/items/:id/parts/:part/more', () => undefined), TypeError);
  assert.equal(r.find('GET', '/items/1/parts/2/more'), null);
  assert.equal(r.find('GET', '/items/1/more'), null);
});

test('RouteTable compacts what it builds, both ways it builds', async () => {
  const routes = PATHS.map((path, i) => ({ id: `r${i}`, methods: ['GET'], match: { path } }));
  const frozenLeaves = (t: RouteTable<(typeof routes)[number]>) => {
    const tree = (t as unknown as { router: { trees: Record<string, { parametricChildren: unknown[] }> } }).router.trees.GET!;
    return Object.isFrozen(tree.parametricChildren);
  };
  const built = new RouteTable(routes);
  const yielded = await RouteTable.build(routes);
  assert.equal(frozenLeaves(built), true);
  assert.equal(frozenLeaves(yielded), true);
  assert.equal(built.find('GET', '/items/7/parts/p9')?.route.id, 'r3');
  assert.equal(yielded.find('GET', '/files/x/y')?.route.id, 'r4');
});
