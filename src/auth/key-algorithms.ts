/**
 * Which JWS algorithms a key may verify. The key's own type decides (RFC 8725 3.1): an RSA key
 * never verifies an HS* token, a secret never verifies an RS* one, and `none` is never listed.
 */
import type { KeyObject } from 'node:crypto';

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
export const EC_ALGORITHMS = ['ES256', 'ES384', 'ES512'] as const;
export const EDDSA_ALGORITHMS = ['EdDSA'] as const;

/** What a public key can be: every algorithm but HMAC. */
export const ASYMMETRIC_ALGORITHMS = [...RSA_ALGORITHMS, ...EC_ALGORITHMS, ...EDDSA_ALGORITHMS] as const;

export const ALL_ALGORITHMS = [...HMAC_ALGORITHMS, ...RSA_ALGORITHMS, ...EC_ALGORITHMS, ...EDDSA_ALGORITHMS] as const;
export type JwsAlgorithm = (typeof ALL_ALGORITHMS)[number];

/** RSA keys shorter than this are refused (RFC 7518 3.3 asks for 2048 bits). */
export const MIN_RSA_BITS = 2048;

const CURVE_ALGORITHM: Record<string, JwsAlgorithm> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

/** The algorithms a public key can verify, or an error message saying why it cannot be used. */
export function algorithmsForPublicKey(key: KeyObject): readonly JwsAlgorithm[] | { error: string } {
  if (key.type !== 'public') return { error: `a ${key.type} key cannot verify tokens (give the public key)` };
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) return { error: `the RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required` };
      return RSA_ALGORITHMS;
    }
    case 'rsa-pss':
      return { error: 'RSA-PSS-only (id-RSASSA-PSS) keys are not supported; a plain RSA key verifies PS256/384/512 too' };
    case 'ec': {
      const alg = CURVE_ALGORITHM[details.namedCurve ?? ''];
      return alg ? [alg] : { error: `the EC curve ${details.namedCurve ?? '?'} is not supported (use P-256, P-384 or P-521)` };
    }
    case 'ed25519':
    case 'ed448':
      return EDDSA_ALGORITHMS;
    default:
      return { error: `keys of type ${key.asymmetricKeyType ?? '?'} are not supported` };
  }
}

/** `allowed` narrowed to those in `configured` (all when none are configured), keeping `allowed`'s order. */
export function narrow(allowed: readonly JwsAlgorithm[], configured: readonly string[] | undefined): JwsAlgorithm[] {
  if (!configured || configured.length === 0) return [...allowed];
  return allowed.filter((a) => configured.includes(a));
}

/** True when a secret is really public-key material (PEM or an asymmetric JWK), which must never be an HMAC key. */
export function looksLikePublicKeyMaterial(secret: string): boolean {
  const s = secret.trim();
  if (/-----BEGIN [A-Z0-9 ]+-----/.test(s)) return true;
  if (s.startsWith('{') || s.startsWith('[')) {
    try {
      const parsed = JSON.parse(s) as unknown;
      const list = Array.isArray(parsed) ? parsed : Array.isArray((parsed as { keys?: unknown }).keys) ? (parsed as { keys: unknown[] }).keys : [parsed];
      return list.some((k) => typeof k === 'object' && k !== null && ['RSA', 'EC', 'OKP'].includes(String((k as { kty?: unknown }).kty)));
    } catch {
      return false;
    }
  }
  return false;
}
