/** Config as the admin API shows it: every secret replaced. */

const SECRET_KEY = /(secret|token|password|passwd|credential|privatekey|private_key|apikey|api_key|^key$|authorization|cookie)/i;
const URL_WITH_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i;

export const REDACTED = '[redacted]';

export function redact(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redact(v, k);
    return out;
  }
  if (typeof value === 'string') {
    if (value !== '' && SECRET_KEY.test(key)) return REDACTED;
    if (URL_WITH_PASSWORD.test(value)) return value.replace(URL_WITH_PASSWORD, `$1${REDACTED}@`);
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) return REDACTED;
  }
  return value;
}
