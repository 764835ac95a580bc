/** `headers`: set, add, remove and rename request and response headers, with templates. */
import { definePlugin } from '../define.js';
import { compileTemplate, type Template } from '../template.js';
import { HeadersConfig } from './schema.js';

type Ops = HeadersConfig['request'];

interface Compiled {
  set: [string, Template][];
  add: [string, Template][];
  remove: string[];
  rename: [string, string][];
  empty: boolean;
}

function compile(ops: Ops, side: string): Compiled {
  const templates = (m: Record<string, string>, kind: string): [string, Template][] =>
    Object.entries(m).map(([name, src]) => {
      const t = compileTemplate(src);
      if (typeof t !== 'function') throw new Error(`${side}.${kind}.${name}: ${t.error}`);
      return [name.toLowerCase(), t];
    });
  const c: Compiled = {
    set: templates(ops.set, 'set'),
    add: templates(ops.add, 'add'),
    remove: ops.remove.map((h) => h.toLowerCase()),
    rename: Object.entries(ops.rename).map(([a, b]) => [a.toLowerCase(), b.toLowerCase()]),
    empty: false,
  };
  c.empty = c.set.length + c.add.length + c.remove.length + c.rename.length === 0;
  return c;
}

export default definePlugin({
  name: 'headers',
  description: 'sets, adds, removes and renames request and response headers',
  config: HeadersConfig,
  create(config) {
    const req = compile(config.request, 'request');
    const res = compile(config.response, 'response');
    if (req.empty && res.empty) return null;
    return {
      // preHandler: after every onRequest (auth) plugin, so {jwt.*} and {consumer} are known.
      preHandler: req.empty
        ? undefined
        : async (request) => {
            const h = request.headers;
            for (const [from, to] of req.rename) {
              if (h[from] !== undefined) {
                h[to] = h[from];
                delete h[from];
              }
            }
            for (const name of req.remove) delete h[name];
            for (const [name, t] of req.set) h[name] = t(request);
            for (const [name, t] of req.add) {
              const prior = h[name];
              const v = t(request);
              h[name] = prior === undefined ? v : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${v}`;
            }
          },
      onSend: res.empty
        ? undefined
        : async (request, reply, payload) => {
            for (const [from, to] of res.rename) {
              const v = reply.getHeader(from);
              if (v !== undefined) {
                reply.removeHeader(from);
                reply.header(to, v);
              }
            }
            for (const name of res.remove) reply.removeHeader(name);
            for (const [name, t] of res.set) reply.header(name, t(request));
            for (const [name, t] of res.add) {
              const prior = reply.getHeader(name);
              const v = t(request);
              reply.header(name, prior === undefined ? v : Array.isArray(prior) ? [...prior, v] : name === 'set-cookie' ? [String(prior), v] : `${String(prior)}, ${v}`);
            }
            return payload;
          },
    };
  },
});
