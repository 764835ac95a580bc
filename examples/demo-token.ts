/** Signs the demo's HS256 JWT (routes.d/me.yaml): sub, iss, aud, a day of validity. */
import { createHmac } from 'node:crypto';

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

export function demoToken(secret = process.env.DEMO_JWT_SECRET ?? 'gatehouse-demo-secret-change-me-0123456789', sub = '1'): string {
  const now = Math.floor(Date.now() / 1000);
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64(JSON.stringify({ sub, iss: 'https://demo.gatehouse.dev/', aud: 'demo', iat: now, exp: now + 86_400 }));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}
