/**
 * The answers an auth plugin gives: 401 with a `WWW-Authenticate` challenge (RFC 6750 3 for
 * Bearer), 403 for a valid credential lacking a scope or claim, 503 when the identity provider
 * cannot be reached. Details say why, never echo the credential.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from '../errors.js';

/** An RFC 9110 quoted-string of printable ASCII (anything else, possibly from a token, becomes `?`). */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/[\\"]/g, '\\$&')}"`;
}

export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** `Bearer realm="...", error="...", error_description="...", scope="..."` */
export function bearerChallenge(realm: string, error?: BearerError, description?: string, scope?: readonly string[]): string {
  let out = `Bearer realm=${quoted(realm)}`;
  if (error) out += `, error=${quoted(error)}`;
  if (description) out += `, error_description=${quoted(description)}`;
  if (scope && scope.length > 0) out += `, scope=${quoted(scope.join(' '))}`;
  return out;
}

export interface AuthResponder {
  /** 401. `error` is omitted when no credential was sent at all (RFC 6750 3.1). */
  unauthenticated(request: FastifyRequest, reply: FastifyReply, detail: string, error?: BearerError): FastifyReply;
  /** 403; with `requiredScopes`, an `insufficient_scope` challenge naming them (RFC 6750 3.1). */
  forbidden(request: FastifyRequest, reply: FastifyReply, detail: string, requiredScopes?: readonly string[]): FastifyReply;
  /** 503: the identity provider could not be asked. */
  unavailable(request: FastifyRequest, reply: FastifyReply, detail: string): FastifyReply;
}

export function bearerResponder(realm: string): AuthResponder {
  return {
    unauthenticated: (request, reply, detail, error) =>
      sendProblem(request, reply, 'UNAUTHENTICATED', detail, { headers: { 'www-authenticate': bearerChallenge(realm, error, error ? detail : undefined) } }),
    forbidden: (request, reply, detail, requiredScopes) =>
      sendProblem(request, reply, 'FORBIDDEN', detail, {
        headers: requiredScopes && requiredScopes.length > 0 ? { 'www-authenticate': bearerChallenge(realm, 'insufficient_scope', detail, requiredScopes) } : undefined,
      }),
    unavailable: (request, reply, detail) => sendProblem(request, reply, 'UPSTREAM_UNAVAILABLE', detail, { headers: { 'retry-after': '1' } }),
  };
}

/** `ApiKey realm="..."` (the header or query parameter the key is read from is in the problem detail). */
export function apiKeyChallenge(realm: string): string {
  return `ApiKey realm=${quoted(realm)}`;
}
