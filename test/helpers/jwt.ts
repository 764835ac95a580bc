/**
 * JWT minting for tests with node:crypto keys and a signer written here (independent of the
 * library the gateway verifies with), plus deliberately broken tokens for the attack rows.
 */
import { constants, createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';

export type Alg = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

export interface SigningKey {
  /** The secret (HS*) or the private key. */
  readonly private: KeyObject | string;
  /** PEM (spki) of the public key; the secret for HS*. */
  readonly publicPem: string;
  readonly publicKey?: KeyObject;
  /** The public JWK (without kid/alg). */
  readonly jwk?: Record<string, unknown>;
}

const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export function rsaKey(bits = 2048): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return fromPair(privateKey, publicKey);
}

export function ecKey(curve: 'P-256' | 'P-384' | 'P-521'): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return fromPair(privateKey, publicKey);
}

export function edKey(kind: 'ed25519' | 'ed448' = 'ed25519'): SigningKey {
  const { privateKey, publicKey } = kind === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ed448');
  return fromPair(privateKey, publicKey);
}

export function secretKey(secret: string): SigningKey {
  return { private: secret, publicPem: secret };
}

function fromPair(privateKey: KeyObject, publicKey: KeyObject): SigningKey {
  return {
    private: privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    jwk: publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
  };
}

function digestOf(alg: string): string {
  return `sha${alg.slice(2)}`;
}

/** Signs `input` as `alg` would with a raw key (string or Buffer secret, or a private KeyObject). */
export function signature(alg: Alg, key: KeyObject | string | Buffer, input: string): Buffer {
  const data = Buffer.from(input);
  switch (alg.slice(0, 2)) {
    case 'HS':
      return createHmac(digestOf(alg), key as string | Buffer).update(data).digest();
    case 'RS':
      return cryptoSign(digestOf(alg), data, { key: key as KeyObject, padding: constants.RSA_PKCS1_PADDING });
    case 'PS':
      return cryptoSign(digestOf(alg), data, { key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    case 'ES':
      return cryptoSign(digestOf(alg), data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
    default:
      return cryptoSign(null, data, key as KeyObject);
  }
}

export interface MintOptions {
  alg: Alg;
  key: SigningKey | string | Buffer;
  kid?: string;
  header?: Record<string, unknown>;
  /** Seconds from now; default 300. `null` leaves exp out. */
  expiresIn?: number | null;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A compact JWS over `claims` (iat and exp added unless given). */
export function mint(claims: Record<string, unknown> | unknown, opts: MintOptions): string {
  const header = { alg: opts.alg, typ: 'JWT', ...(opts.kid !== undefined ? { kid: opts.kid } : {}), ...opts.header };
  const body =
    claims && typeof claims === 'object' && !Array.isArray(claims)
      ? {
          iat: nowSeconds(),
          ...(opts.expiresIn === null ? {} : { exp: nowSeconds() + (opts.expiresIn ?? 300) }),
          ...(claims as Record<string, unknown>),
        }
      : claims;
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(body))}`;
  const k = typeof opts.key === 'string' || Buffer.isBuffer(opts.key) ? opts.key : opts.key.private;
  return `${input}.${b64(signature(opts.alg, k, input))}`;
}

/** An unsigned token (`alg` none or a variant), with an empty signature segment. */
export function unsigned(claims: Record<string, unknown>, alg = 'none'): string {
  return `${b64(JSON.stringify({ alg, typ: 'JWT' }))}.${b64(JSON.stringify({ iat: nowSeconds(), exp: nowSeconds() + 300, ...claims }))}.`;
}

/** The same token with its payload replaced (signature kept). */
export function tamper(token: string, claims: Record<string, unknown>): string {
  const [h, , s] = token.split('.');
  return `${h}.${b64(JSON.stringify({ exp: nowSeconds() + 300, ...claims }))}.${s}`;
}
