/** Command-line flags of `npm run bench`. */
import { parseArgs } from 'node:util';

export interface BenchArgs {
  seconds: number;
  rounds: number;
  connections: number;
  smoke: boolean;
  latency: boolean;
  scale: boolean;
  /** The demo config's RSS before and after a run (bench/lib/memory.ts). */
  memory: boolean;
  /** How long --memory drives the gateway: --duration when given, else 30 s. */
  memorySeconds: number;
  /** Row names to run (default: all). */
  only: string[] | undefined;
  json: string | undefined;
  /** Fixed rate for --latency (default: 25% of the plain route's peak). */
  rate: number | undefined;
}

export const USAGE = `usage: npm run bench -- [--duration 10s] [--rounds 3] [--connections 50] [--only NAME,NAME]
                        [--smoke] [--latency [--rate N]] [--scale] [--memory] [--json FILE]`;

function seconds(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new Error(`--duration wants e.g. 10s, got ${text}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      latency: { type: 'boolean', default: false },
      scale: { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      only: { type: 'string' },
      json: { type: 'string' },
      rate: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const smoke = values.smoke;
  return {
    seconds: values.duration ? seconds(values.duration) : smoke ? 1 : 10,
    rounds: values.rounds ? Number(values.rounds) : smoke ? 1 : 3,
    connections: values.connections ? Number(values.connections) : smoke ? 10 : 50,
    smoke,
    latency: values.latency,
    scale: values.scale,
    memory: values.memory,
    memorySeconds: values.duration ? seconds(values.duration) : 30,
    only: values.only?.split(',').map((s) => s.trim()).filter(Boolean),
    json: values.json,
    rate: values.rate ? Number(values.rate) : undefined,
  };
}
