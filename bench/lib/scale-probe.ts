/**
 * Scale probe, its own process so its RSS is its own: loads and validates a config
 * (src/config/load.ts), then times RouteTable.find (src/routing/route-table.ts) over the loaded
 * routes. Prints {"loadMs","routes","rssMb","heapMb","find":{"p50us","p99us","lookups"}}.
 *   node --import tsx bench/lib/scale-probe.ts CONFIG_FILE SAMPLE_PATHS_JSON_FILE
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { RouteTable } from '../../src/routing/route-table.js';

const [configFile, pathsFile] = process.argv.slice(2);
const t0 = performance.now();
const snapshot = await loadConfig({ configFile: configFile! });
const loadMs = performance.now() - t0;
const rssMb = process.memoryUsage().rss / 1048576;
const heapMb = process.memoryUsage().heapUsed / 1048576;

const table = new RouteTable(snapshot.routes);
const paths = JSON.parse(readFileSync(pathsFile!, 'utf8')) as string[];
const lookups = 200_000;
const times = new Float64Array(lookups);
let misses = 0;
for (let i = 0; i < 20_000; i++) table.find('GET', paths[i % paths.length]!); // warm-up
for (let i = 0; i < lookups; i++) {
  const p = paths[(i * 7919) % paths.length]!;
  const s = process.hrtime.bigint();
  const found = table.find('GET', p);
  times[i] = Number(process.hrtime.bigint() - s) / 1000;
  if (!found) misses++;
}
times.sort();
const pct = (q: number) => Math.round(times[Math.floor(lookups * q)]! * 100) / 100;
process.stdout.write(
  `${JSON.stringify({ loadMs: Math.round(loadMs), routes: snapshot.routes.length, rssMb: Math.round(rssMb), heapMb: Math.round(heapMb), find: { lookups, misses, p50us: pct(0.5), p99us: pct(0.99) } })}\n`,
);
process.exit(0);
