import assert from 'node:assert/strict';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { configDir } from '../helpers/gateway.js';

const root = path.resolve(import.meta.dirname, '../..');

test('the config docker-compose.yml mounts into the gateway passes gatehouse validate', async (t) => {
  const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
    services: { gateway: { environment: Record<string, string>; volumes: string[] } };
  };
  const gw = compose.services.gateway;
  const dir = await configDir({}, { inProject: true });
  t.after(() => dir.cleanup());
  for (const v of gw.volumes) {
    const [from, to] = v.split(':') as [string, string];
    const dest = path.join(dir.dir, path.relative('/app', to));
    await mkdir(path.dirname(dest), { recursive: true });
    await cp(path.join(root, from), dest, { recursive: true });
  }
  // compose's own ${VAR:-default} applied to the gateway's environment
  const env = Object.fromEntries(Object.entries(gw.environment).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
  const r = runCli(['validate'], dir.dir, env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok: \d+ files, 4 services, \d+ routes/);
});

test('the Kubernetes ConfigMap, laid out as the Deployment mounts it, passes gatehouse validate', async (t) => {
  const docs = [
    ...parseAllDocuments(readFileSync(path.join(root, 'deploy/kubernetes/configmap.yaml'), 'utf8')),
    ...parseAllDocuments(readFileSync(path.join(root, 'deploy/kubernetes/gatehouse.yaml'), 'utf8')),
  ].map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: unknown });
  const cm = docs.find((d) => d.kind === 'ConfigMap')!;
  const deploy = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'gatehouse')! as unknown as {
    spec: { template: { spec: { volumes: { configMap: { items: { key: string; path: string }[] } }[]; containers: { args: string[] }[] } } };
  };
  const dir = await configDir({});
  t.after(() => dir.cleanup());
  for (const item of deploy.spec.template.spec.volumes[0]!.configMap.items) {
    const dest = path.join(dir.dir, item.path);
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, cm.data![item.key]!);
  }
  assert.deepEqual(deploy.spec.template.spec.containers[0]!.args, ['start', '-c', '/etc/gatehouse/gatehouse.yaml']);
  const r = runCli(['validate', '-c', 'gatehouse.yaml'], dir.dir, { GATEHOUSE_ADMIN_TOKEN: 'from-the-secret' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok: 3 files, 2 services, 2 routes/);
});
