/**
 * The keys a jwt route verifies with: one configured key (secret, PEM, PEM file) or a JWKS.
 * Each key is pinned to the algorithms its type allows (narrowed by `algorithms`), so a token
 * can never pick how its own signature is checked.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { createVerifier } from 'fast-jwt';
import { JwksCache } from '../../auth/jwks-cache.js';
import { algorithmsForPublicKey, ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, looksLikePublicKeyMaterial, narrow, type JwsAlgorithm } from '../../auth/key-algorithms.js';
import type { JwtConfig } from './schema.js';
import type { JoseHeader } from './token-header.js';
import { rememberingVerify } from './verified-tokens.js';

export interface VerifyingKey {
  readonly algorithms: readonly JwsAlgorithm[];
  /** Checks signature and time/iss/aud claims; throws fast-jwt's TokenError. */
  readonly verify: (token: string) => Record<string, unknown>;
}

export type KeyResolution = { key: VerifyingKey } | { invalid: string } | { unavailable: string };

export interface KeySource {
  /** Every algorithm some key may accept (tokens with another alg are refused before lookup). */
  readonly algorithms: ReadonlySet<string>;
  resolve(header: JoseHeader): KeyResolution | Promise<KeyResolution>;
}

function listOf(v: string | string[] | undefined): string[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
}

function verifierFactory(config: JwtConfig) {
  const allowedIss = listOf(config.issuer);
  const allowedAud = listOf(config.audience);
  // fast-jwt skips a claim check when the claim is absent: make iss/aud present when they are configured.
  const required = [...(allowedIss ? ['iss'] : []), ...(allowedAud ? ['aud'] : [])];
  return (key: string, algorithms: readonly JwsAlgorithm[]): VerifyingKey => {
    const verify = createVerifier({
      key,
      algorithms: [...algorithms],
      allowedIss,
      allowedAud,
      requiredClaims: required.length > 0 ? required : undefined,
      clockTolerance: config.clockTolerance,
      // Verified tokens are remembered by verified-tokens.ts instead of fast-jwt's cache.
      cache: false,
    }) as (token: string) => Record<string, unknown>;
    return { algorithms, verify: rememberingVerify(verify, config.cacheSize, config.clockTolerance) };
  };
}

function publicKeyOf(pem: string, what: string): KeyObject {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new Error(`${what} holds a private key; give the public key (or a certificate)`);
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(pem)) throw new Error(`${what} is not PEM text (-----BEGIN PUBLIC KEY----- ...)`);
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new Error(`${what} is not a valid PEM public key or certificate: ${(err as Error).message}`);
  }
}

function staticSource(key: VerifyingKey): KeySource {
  const resolved: KeyResolution = { key };
  return { algorithms: new Set(key.algorithms), resolve: () => resolved };
}

function describe(algs: readonly string[] | undefined): string {
  return algs ? algs.join(', ') : '';
}

/** Builds the key source at load; throws a readable message for any config mistake. */
export function createKeySource(config: JwtConfig, configDir: string, logger: FastifyBaseLogger): KeySource {
  const given = (['secret', 'publicKey', 'publicKeyFile', 'jwksUri'] as const).filter((k) => config[k] !== undefined);
  if (given.length === 0) throw new Error('needs one of secret, publicKey, publicKeyFile or jwksUri');
  if (given.length > 1) throw new Error(`takes one of secret, publicKey, publicKeyFile or jwksUri, not ${given.join(' and ')}`);
  const make = verifierFactory(config);

  if (config.secret !== undefined) {
    if (looksLikePublicKeyMaterial(config.secret)) throw new Error('secret holds public-key material (PEM or JWK); use publicKey or jwksUri for asymmetric keys');
    const algs = narrow(HMAC_ALGORITHMS, config.algorithms);
    if (algs.length === 0) throw new Error(`algorithms ${describe(config.algorithms)} do not fit a secret, which verifies only HS256, HS384, HS512`);
    if (Buffer.byteLength(config.secret) < 32) logger.warn('the jwt secret is shorter than 32 bytes; HS256 wants at least 32 random bytes');
    return staticSource(make(config.secret, algs));
  }

  if (config.publicKey !== undefined || config.publicKeyFile !== undefined) {
    let pem: string;
    let what: string;
    if (config.publicKeyFile !== undefined) {
      const file = path.resolve(configDir, config.publicKeyFile);
      what = `publicKeyFile ${config.publicKeyFile}`;
      try {
        pem = readFileSync(file, 'utf8');
      } catch (err) {
        throw new Error(`cannot read publicKeyFile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    } else {
      pem = config.publicKey!;
      what = 'publicKey';
    }
    const key = publicKeyOf(pem, what);
    const typeAlgs = algorithmsForPublicKey(key);
    if ('error' in typeAlgs) throw new Error(`${what}: ${typeAlgs.error}`);
    const algs = narrow(typeAlgs, config.algorithms);
    if (algs.length === 0) throw new Error(`algorithms ${describe(config.algorithms)} do not fit this ${key.asymmetricKeyType} key, which verifies only ${typeAlgs.join(', ')}`);
    return staticSource(make(key.export({ type: 'spki', format: 'pem' }) as string, algs));
  }

  const uri = config.jwksUri!;
  const jwks = new JwksCache<VerifyingKey>({
    uri,
    timeout: config.jwks.timeout,
    cooldown: config.jwks.cooldown,
    refreshInterval: config.jwks.refresh,
    logger,
    build(jwk) {
      const kid = typeof jwk.kid === 'string' ? jwk.kid : '(no kid)';
      if (jwk.kty === 'oct') return { skip: `${kid}: symmetric (oct) keys from a JWKS are never used` };
      if (jwk.use !== undefined && jwk.use !== 'sig') return { skip: `${kid}: use is ${String(jwk.use)}, not sig` };
      if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return { skip: `${kid}: key_ops does not include verify` };
      let key: KeyObject;
      try {
        key = createPublicKey({ key: jwk as never, format: 'jwk' });
      } catch (err) {
        return { skip: `${kid}: not a usable public JWK (${(err as Error).message})` };
      }
      const typeAlgs = algorithmsForPublicKey(key);
      if ('error' in typeAlgs) return { skip: `${kid}: ${typeAlgs.error}` };
      let algs = narrow(typeAlgs, config.algorithms);
      if (jwk.alg !== undefined) {
        if (typeof jwk.alg !== 'string' || !typeAlgs.includes(jwk.alg as JwsAlgorithm)) return { skip: `${kid}: alg ${String(jwk.alg)} does not fit a ${key.asymmetricKeyType} key` };
        algs = algs.filter((a) => a === jwk.alg);
      }
      if (algs.length === 0) return { skip: `${kid}: none of the configured algorithms fit it` };
      return { entry: make(key.export({ type: 'spki', format: 'pem' }) as string, algs) };
    },
  });
  const accepted = narrow(ASYMMETRIC_ALGORITHMS, config.algorithms);
  if (accepted.length === 0) throw new Error('a JWKS provides public keys only, so algorithms must include an RS, PS, ES or EdDSA algorithm');
  return {
    algorithms: new Set(accepted),
    async resolve(header) {
      const found = await jwks.lookup(header.kid, (k) => k.algorithms.includes(header.alg as JwsAlgorithm));
      if ('unavailable' in found) return { unavailable: found.unavailable };
      if ('unknown' in found) return { invalid: found.unknown };
      if (!found.found.algorithms.includes(header.alg as JwsAlgorithm)) return { invalid: `the token's algorithm ${header.alg} does not fit its key` };
      return { key: found.found };
    },
  };
}
