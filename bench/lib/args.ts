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
  /** --paired "A,B": the two rows of a paired run (B may equal A with --against). */
  paired: [string, string] | undefined;
  /** --against DIR: B's gateways run from DIR/cli.js (another build's dist/). */
  against: string | undefined;
  /** --target-pairs N: after the table, each ratio target's two rows in N alternating pairs (0: none; smoke: 0). */
  targetPairs: number;
}

/** How long each run of a pair lasts (--paired, and the targets' pairs after the table). */
export const PAIR_SECONDS = 3;

export const USAGE = `usage: npm run bench -- [--duration 10s] [--rounds 3] [--connections 50] [--only NAME,NAME]
                        [--smoke] [--latency [--rate N]] [--scale] [--memory] [--json FILE] [--target-pairs 6]
                        [--paired "ROW A,ROW B" [--against DIST_DIR]]  (pairs: --rounds, default 8; --duration default 3s)`;

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
      paired: { type: 'string' },
      against: { type: 'string' },
      'target-pairs': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const smoke = values.smoke;
  let paired: [string, string] | undefined;
  if (values.paired !== undefined) {
    const names = values.paired.split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 1 && values.against !== undefined) names.push(names[0]!);
    if (names.length !== 2) throw new Error(`--paired wants two row names, "A,B" (or one with --against), got ${JSON.stringify(values.paired)}`);
    if (names[0] === names[1] && values.against === undefined) throw new Error('--paired with the same row twice needs --against DIST_DIR (the other build)');
    paired = [names[0]!, names[1]!];
  } else if (values.against !== undefined) throw new Error('--against goes with --paired');
  const targetPairs = values['target-pairs'] !== undefined ? Number(values['target-pairs']) : smoke ? 0 : 6;
  if (!Number.isInteger(targetPairs) || targetPairs < 0) throw new Error(`--target-pairs wants a whole number >= 0, got ${values['target-pairs']}`);
  return {
    seconds: values.duration ? seconds(values.duration) : smoke ? 1 : paired ? PAIR_SECONDS : 10,
    rounds: values.rounds ? Number(values.rounds) : smoke ? 1 : paired ? 8 : 3,
    connections: values.connections ? Number(values.connections) : smoke ? 10 : 50,
    smoke,
    latency: values.latency,
    scale: values.scale,
    memory: values.memory,
    memorySeconds: values.duration ? seconds(values.duration) : 30,
    only: values.only?.split(',').map((s) => s.trim()).filter(Boolean),
    json: values.json,
    rate: values.rate ? Number(values.rate) : undefined,
    paired,
    against: values.against,
    targetPairs,
  };
}
