/**
 * The auth rows of the benchmark: a plain route beside JWT-protected ones (HS256 and RS256),
 * all over the same upstream. The harness starts the origin, writes `files` into a config dir,
 * starts the gateway from it and drives each row's path with its headers.
 */
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';

export interface BenchRow {
  readonly name: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface AuthScenario {
  /** Config files, relative to the gateway's config dir. */
  readonly files: Readonly<Record<string, string>>;
  readonly rows: readonly BenchRow[];
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');

function token(alg: 'HS256' | 'RS256', sigFor: (input: string) => Buffer): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64(JSON.stringify({ alg, typ: 'JWT' }))}.${b64(JSON.stringify({ sub: 'bench-user', iss: 'bench', aud: 'bench', iat: now, exp: now + 3600 }))}`;
  return `${input}.${b64(sigFor(input))}`;
}

export function authScenario(originUrl: string): AuthScenario {
  const secret = 'bench-secret-bench-secret-bench-secret!';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const hs = token('HS256', (i) => createHmac('sha256', secret).update(i).digest());
  const rs = token('RS256', (i) => sign('sha256', Buffer.from(i), privateKey));
  const route = (id: string, plugins: string) => `  - id: ${id}\n    match: { path: /${id} }\n    upstream: { service: origin }\n${plugins}`;
  const jwt = (cfg: Record<string, unknown>) => `    plugins:\n      - jwt: ${JSON.stringify({ issuer: 'bench', audience: 'bench', ...cfg })}\n`;
  return {
    files: {
      'gatehouse.yaml': 'admin: { enabled: false }\nlogging: { level: warn, accessLog: false }\n',
      'routes.d/bench-auth.yaml':
        `services:\n  origin:\n    discovery: { static: [${JSON.stringify(originUrl)}] }\nroutes:\n` +
        route('plain', '') +
        route('jwt-hs256', jwt({ secret })) +
        route('jwt-rs256', jwt({ publicKey: pem })),
    },
    rows: [
      { name: 'gateway plain', path: '/plain', headers: {} },
      { name: 'gateway jwt HS256', path: '/jwt-hs256', headers: { authorization: `Bearer ${hs}` } },
      { name: 'gateway jwt RS256', path: '/jwt-rs256', headers: { authorization: `Bearer ${rs}` } },
    ],
  };
}
