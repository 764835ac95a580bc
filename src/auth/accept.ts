/** What every token plugin does once a token is good: share its claims and consumer, forward claims, hide the credential. */
import type { FastifyRequest } from 'fastify';
import { stateOf } from '../request-state.js';
import { consumerFrom } from './claims.js';
import type { CredentialSource, FoundCredential } from './credential-source.js';
import type { ClaimForwarder } from './forward-claims.js';

export interface AcceptOptions {
  readonly consumerClaim: string;
  readonly forward: ClaimForwarder | undefined;
  readonly hideCredentials: boolean;
  readonly source: CredentialSource;
}

export function acceptClaims(request: FastifyRequest, claims: Readonly<Record<string, unknown>>, found: FoundCredential, options: AcceptOptions): void {
  const state = stateOf(request);
  state.jwt = claims;
  const consumer = consumerFrom(claims, options.consumerClaim);
  if (consumer !== undefined) state.consumer = consumer;
  options.forward?.(request, claims);
  if (options.hideCredentials) options.source.hide(request, found);
}
