/** Why a token failed, in words for the problem detail (never the token itself). */

const BY_CODE: Record<string, string> = {
  FAST_JWT_EXPIRED: 'the token has expired',
  FAST_JWT_INACTIVE: 'the token is not valid yet (nbf)',
  FAST_JWT_INVALID_SIGNATURE: 'the token signature is invalid',
  FAST_JWT_MISSING_SIGNATURE: 'the token has no signature',
  FAST_JWT_INVALID_ALGORITHM: 'the token algorithm is not accepted',
  FAST_JWT_MALFORMED: 'the token is malformed',
  FAST_JWT_INVALID_PAYLOAD: 'the token payload is not a JSON object',
  FAST_JWT_INVALID_CRIT_HEADER: 'the token has an unsupported critical header',
  FAST_JWT_INVALID_TYPE: 'the token is malformed',
};

const CLAIM_NAMES: Record<string, string> = { iss: 'issuer (iss)', aud: 'audience (aud)', exp: 'expiry (exp)', nbf: 'not-before (nbf)', iat: 'issued-at (iat)' };

export function describeVerifyError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  if (code === 'FAST_JWT_INVALID_CLAIM_VALUE' || code === 'FAST_JWT_INVALID_CLAIM_TYPE' || code === 'FAST_JWT_MISSING_REQUIRED_CLAIM') {
    const claim = /\b(iss|aud|exp|nbf|iat)\b/.exec(e.message ?? '')?.[1];
    const name = claim ? CLAIM_NAMES[claim] : 'a claim';
    if (code === 'FAST_JWT_MISSING_REQUIRED_CLAIM') return `the token has no ${name}`;
    if (code === 'FAST_JWT_INVALID_CLAIM_TYPE' || (claim && (claim === 'exp' || claim === 'nbf' || claim === 'iat'))) return `the token's ${name} has the wrong type`;
    return `the token's ${name} is not accepted`;
  }
  return BY_CODE[code] ?? 'the token could not be verified';
}
