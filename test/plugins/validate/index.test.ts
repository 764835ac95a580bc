import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { startOrigin, type Origin } from '../../helpers/upstream.js';

type T = { after: (f: () => Promise<void>) => void };

const INLINE = `    plugins:
      - validate:
          params: { type: object, properties: { id: { type: integer, minimum: 1 } } }
          query: { type: object, properties: { limit: { type: integer, maximum: 100 }, sort: { enum: [asc, desc] } }, required: [limit] }
          headers: { type: object, properties: { X-Tenant: { type: string, pattern: "^[a-z]+$" } }, required: [X-Tenant] }
          body:
            type: object
            additionalProperties: false
            required: [name, email]
            properties:
              name: { type: string, minLength: 1 }
              email: { type: string, format: email }
              tags: { type: array, items: { type: string } }
          maxDepth: 4
          maxArrayLength: 3
`;

async function setup(t: T, route: string, extraFiles: Record<string, string> = {}): Promise<{ url: string; origin: Origin }> {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], route), ...extraFiles });
  t.after(() => gw.close());
  return { url: gw.url, origin };
}

const inlineRoute = `  - id: v\n    match: { path: /users/:id, methods: [GET, POST] }\n    upstream: { service: svc }\n${INLINE}`;

async function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(url, { method: (opts.method ?? 'GET') as 'GET', headers: opts.headers, body: opts.body });
  const text = await res.body.text();
  return { status: res.statusCode, type: res.headers['content-type'], json: text ? JSON.parse(text) : undefined };
}

const sorted = (vs: { in: string; path: string }[]) => vs.map((v) => `${v.in} ${v.path}`).sort();

test('a valid request goes upstream with its JSON body intact', async (t) => {
  const { url, origin } = await setup(t, inlineRoute);
  const body = JSON.stringify({ name: 'Ada', email: 'ada@example.com', tags: ['x'] });
  const res = await send(`${url}/users/7?limit=10`, { method: 'POST', headers: { 'x-tenant': 'acme', 'content-type': 'application/json' }, body });
  assert.equal(res.status, 200);
  assert.equal(origin.seen.length, 1);
  assert.deepEqual(JSON.parse(origin.seen[0]!.body.toString()), JSON.parse(body));
  assert.equal(origin.seen[0]!.headers['content-length'], String(origin.seen[0]!.body.length));
  assert.equal(origin.seen[0]!.url, '/users/7?limit=10');
});

test('every violation is listed at once, across params, query, headers and body, and the origin gets nothing', async (t) => {
  const { url, origin } = await setup(t, inlineRoute);
  const res = await send(`${url}/users/0?limit=500&sort=up`, {
    method: 'POST',
    headers: { 'x-tenant': 'ACME', 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'not-an-email', extra: 1 }),
  });
  assert.equal(res.status, 400);
  assert.match(String(res.type), /^application\/problem\+json/);
  assert.equal(res.json.code, 'VALIDATION_FAILED');
  assert.deepEqual(sorted(res.json.violations), [
    'body /email',
    'body /extra',
    'body /name',
    'headers /x-tenant',
    'params /id',
    'query /limit',
    'query /sort',
  ]);
  const name = res.json.violations.find((v: { path: string }) => v.path === '/name');
  assert.equal(name.message, 'is required');
  for (const v of res.json.violations) assert.equal(typeof v.message, 'string');
  assert.equal(origin.seen.length, 0);
});

test('missing required query parameter and header, and a missing body on POST, are violations', async (t) => {
  const { url, origin } = await setup(t, inlineRoute);
  const res = await send(`${url}/users/3`, { method: 'POST' });
  assert.equal(res.status, 400);
  assert.deepEqual(sorted(res.json.violations), ['body ', 'headers /x-tenant', 'query /limit']);
  const get = await send(`${url}/users/3?limit=1`, { headers: { 'x-tenant': 'a' } });
  assert.equal(get.status, 200, 'GET needs no body');
  assert.equal(origin.seen.length, 1);
});

test('JSON depth and array length limits; malformed JSON; a non-JSON body where JSON is expected is 415', async (t) => {
  const { url, origin } = await setup(t, inlineRoute);
  const h = { 'x-tenant': 'a', 'content-type': 'application/json' };
  const deep = await send(`${url}/users/1?limit=1`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'a', email: 'a@b.co', x: { y: { z: { w: { v: 1 } } } } }) });
  assert.equal(deep.status, 400);
  assert.match(deep.json.violations[0].message, /deeper than 4/);
  const long = await send(`${url}/users/1?limit=1`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'a', email: 'a@b.co', tags: ['1', '2', '3', '4'] }) });
  assert.equal(long.status, 400);
  assert.deepEqual(long.json.violations, [{ in: 'body', path: '/tags', message: 'array has 4 items, more than 3' }]);
  const bad = await send(`${url}/users/1?limit=1`, { method: 'POST', headers: h, body: '{"name":' });
  assert.equal(bad.status, 400);
  assert.match(bad.json.violations[0].message, /not valid JSON/);
  const text = await send(`${url}/users/1?limit=1`, { method: 'POST', headers: { 'x-tenant': 'a', 'content-type': 'text/plain' }, body: 'hello' });
  assert.equal(text.status, 415);
  assert.equal(text.json.code, 'UNSUPPORTED_MEDIA_TYPE');
  assert.equal(origin.seen.length, 0);
});

test('a JSON body over maxBodySize is 413 and never reaches the origin', async (t) => {
  const route = `  - id: v\n    match: { path: /p, methods: [POST] }\n    upstream: { service: svc }\n    plugins:\n      - validate: { body: { type: object }, maxBodySize: 100 }\n`;
  const { url, origin } = await setup(t, route);
  const res = await send(`${url}/p`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(200) }) });
  assert.equal(res.status, 413);
  assert.equal(res.json.code, 'PAYLOAD_TOO_LARGE');
  assert.equal(origin.seen.length, 0);
});

const OPENAPI = `openapi: 3.0.3
info: { title: pets, version: "1" }
paths:
  /pets/{petId}:
    parameters:
      - { name: petId, in: path, required: true, schema: { type: integer } }
    get:
      operationId: getPet
      parameters:
        - $ref: "#/components/parameters/Verbose"
      responses: { "200": { description: ok } }
    put:
      operationId: putPet
      parameters:
        - { name: X-Request-Source, in: header, required: true, schema: { type: string } }
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Pet" }
      responses: { "200": { description: ok } }
components:
  parameters:
    Verbose: { name: verbose, in: query, schema: { type: boolean } }
  schemas:
    Pet:
      type: object
      required: [name, kind]
      properties:
        name: { type: string }
        kind: { type: string, enum: [cat, dog] }
        owner: { $ref: "#/components/schemas/Owner" }
    Owner:
      type: object
      required: [id]
      properties: { id: { type: integer } }
`;

test('OpenAPI file: the operation is picked by the route path and method; $refs resolve; every violation listed', async (t) => {
  const route = `  - id: pets\n    match: { path: /pets/:id, methods: [GET, PUT] }\n    upstream: { service: svc }\n    plugins:\n      - validate: { openapi: ./specs/pets.yaml }\n`;
  const { url, origin } = await setup(t, route, { 'routes.d/specs/pets.yaml': OPENAPI });
  const okGet = await send(`${url}/pets/5?verbose=true`);
  assert.equal(okGet.status, 200);
  const badGet = await send(`${url}/pets/abc?verbose=maybe`);
  assert.equal(badGet.status, 400);
  assert.deepEqual(sorted(badGet.json.violations), ['params /id', 'query /verbose']);
  const badPut = await send(`${url}/pets/5`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Rex', kind: 'fish', owner: {} }) });
  assert.equal(badPut.status, 400);
  assert.deepEqual(sorted(badPut.json.violations), ['body /kind', 'body /owner/id', 'headers /x-request-source']);
  const noBody = await send(`${url}/pets/5`, { method: 'PUT', headers: { 'x-request-source': 'a' } });
  assert.deepEqual(sorted(noBody.json.violations), ['body ']);
  const okPut = await send(`${url}/pets/5`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-request-source': 'a' }, body: JSON.stringify({ name: 'Rex', kind: 'dog', owner: { id: 1 } }) });
  assert.equal(okPut.status, 200);
  assert.equal(origin.seen.length, 2);
  assert.deepEqual(JSON.parse(origin.seen[1]!.body.toString()), { name: 'Rex', kind: 'dog', owner: { id: 1 } });
});

test('OpenAPI in JSON, operation picked by operationId on a route whose path differs', async (t) => {
  const { parse } = await import('yaml');
  const route = `  - id: pets\n    match: { path: /animals/:id, methods: [PUT] }\n    upstream: { service: svc }\n    plugins:\n      - validate: { openapi: ../specs/pets.json, operation: putPet }\n`;
  const { url, origin } = await setup(t, route, { 'specs/pets.json': JSON.stringify(parse(OPENAPI)) });
  const res = await send(`${url}/animals/5`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-request-source': 'a' }, body: JSON.stringify({ name: 'Rex' }) });
  assert.equal(res.status, 400);
  assert.deepEqual(res.json.violations, [{ in: 'body', path: '/kind', message: 'is required' }]);
  assert.equal(origin.seen.length, 0);
});

test('config errors at load: no operation for the route, unknown operationId, missing file, bad schema, nothing to check', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const cases: [string, RegExp][] = [
    ['{ openapi: specs/pets.yaml }', /no operation for \S+ \/other/],
    ['{ openapi: specs/pets.yaml, operation: nope }', /no operation has operationId "nope"/],
    ['{ openapi: missing.yaml }', /cannot read/],
    ['{ body: { type: wrong } }', /body schema/],
    ['{}', /at least one/],
  ];
  for (const [cfg, expected] of cases) {
    await assert.rejects(
      startGateway({ 'routes.d/specs/pets.yaml': OPENAPI, 'routes.d/a.yaml': routeFile([origin.url], `  - id: v\n    match: { path: /other }\n    upstream: { service: svc }\n    plugins:\n      - validate: ${cfg}\n`) }),
      (err: Error) => {
        const issues = (err as { issues?: { message: string }[] }).issues;
        assert.match(issues ? issues.map((i) => i.message).join('\n') : err.message, expected);
        return true;
      },
      cfg,
    );
  }
});
