/**
 * Retries: which failures are tried again, how long to wait, and the decorator that does it.
 *
 * A failure is retried only when the body can be sent again, the retry budget allows it, and
 * either the policy lists it (`on`, for the methods in `methods`) or it is one of the two that
 * are always safe to retry once: a connection that never opened (nothing reached the upstream,
 * so any method) and a connection dropped before any response on an idempotent request (a
 * stale keep-alive connection the upstream had closed). Nothing of a response is sent to the client before this decision, and
 * a failure while the body streams is never retried.
 */
import { IDEMPOTENT_METHODS, type RetryConfig } from '../config/schema.js';
import { UpstreamError, type CallFailureKind, type CallInput, type CallResult, type UpstreamAnswer, type UpstreamCall } from './call.js';
import type { RetryBudget } from './retry-budget.js';
import { waitUnlessCancelled, type CallSignal } from './client-gone.js';

export interface RetryPolicy {
  /** Retries after the first try. */
  readonly attempts: number;
  readonly backoff: number;
  readonly maxBackoff: number;
  readonly on: ReadonlySet<string | number>;
  readonly methods: ReadonlySet<string>;
  /** Bodies up to this many bytes are buffered so they can be resent (0: bodies stream, never resent). */
  readonly maxBodySize: number;
}

const IDEMPOTENT: ReadonlySet<string> = new Set(IDEMPOTENT_METHODS);

const NO_RETRY_POLICY: RetryPolicy = { attempts: 1, backoff: 0, maxBackoff: 0, on: new Set(), methods: IDEMPOTENT, maxBodySize: 0 };
/** One policy per service config (every route of a service shares it: 10,000 routes, not 20,000 sets). */
const policies = new WeakMap<RetryConfig, RetryPolicy>();

/** The policy of a service; without `retry` only the always-safe single retry remains. */
export function retryPolicy(config: RetryConfig | undefined): RetryPolicy {
  if (!config) return NO_RETRY_POLICY;
  let policy = policies.get(config);
  if (policy === undefined) {
    policy = {
      attempts: config.attempts,
      backoff: config.backoff,
      maxBackoff: config.maxBackoff ?? config.backoff * 10,
      on: new Set(config.on),
      methods: new Set(config.methods),
      maxBodySize: config.maxBodySize,
    };
    policies.set(config, policy);
  }
  return policy;
}

/** Why a try did not do: a failure kind, or the status code the upstream answered with. */
export type RetryReason = CallFailureKind | number;

/**
 * Whether try number `retryNo + 1` may follow (retryNo counts from 1), budget aside. `dropped`:
 * the connection closed before any response (a `reset` that is not garbage).
 */
export function mayRetry(policy: RetryPolicy, method: string, reason: RetryReason, retryNo: number, replayable: boolean, dropped = reason === 'reset'): boolean {
  if (!replayable || retryNo > policy.attempts) return false;
  switch (reason) {
    case 'client-gone':
    case 'request':
    case 'no-target':
    case 'circuit-open':
      return false;
    case 'connect-error':
      return retryNo === 1 || policy.on.has(reason);
    case 'reset':
      if (dropped && retryNo === 1 && IDEMPOTENT.has(method)) return true;
      break;
    default:
      break;
  }
  return policy.on.has(reason) && policy.methods.has(method);
}

/** Exponential backoff with jitter: between half and all of min(maxBackoff, backoff * 2^(retryNo-1)). */
export function backoffDelay(policy: RetryPolicy, retryNo: number, random: () => number = Math.random): number {
  if (policy.backoff <= 0) return 0;
  const cap = Math.min(policy.maxBackoff, policy.backoff * 2 ** (retryNo - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

async function wait(ms: number, signal: CallSignal): Promise<void> {
  try {
    await waitUnlessCancelled(ms, signal);
  } catch {
    throw new UpstreamError('client-gone', 'BAD_GATEWAY', 'client closed the request');
  }
}

/** Runs `call` again (on another target when the balancer has one) while the policy and budget allow. */
export function withRetry<A extends UpstreamAnswer>(policy: RetryPolicy, budget: RetryBudget, call: UpstreamCall<A>): UpstreamCall<A> {
  if (policy.attempts === 0) return call;

  /** After a first try that failed or answered a retryable status: the retries, as long as they may go. */
  const retry = async (input: CallInput, first: CallResult<A> | undefined, firstFailure: UpstreamError | undefined): Promise<CallResult<A>> => {
    let result = first;
    let failure = firstFailure;
    for (let retryNo = 1; ; retryNo++) {
      const reason: RetryReason = failure ? failure.kind : result!.response.statusCode;
      if (!mayRetry(policy, input.method, reason, retryNo, input.replayable, failure?.dropped ?? false) || !budget.tryWithdraw()) {
        if (failure) throw failure;
        return result!;
      }
      if (result) result.response.discard();
      input.request.log.debug({ retry: retryNo, reason, target: failure?.target ?? result?.target.url }, 'retrying upstream request');
      const ms = backoffDelay(policy, retryNo);
      if (ms > 0) await wait(ms, input.signal);
      else if (input.signal.aborted) throw new UpstreamError('client-gone', 'BAD_GATEWAY', 'client closed the request');
      result = undefined;
      failure = undefined;
      try {
        result = await call(input);
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        failure = err;
      }
      if (result && !policy.on.has(result.response.statusCode)) return result;
    }
  };

  // The first try is a then-chain: most requests need no retry, and pay no async frame for it.
  return (input) => {
    budget.recordRequest();
    return call(input).then(
      (result) => (policy.on.has(result.response.statusCode) ? retry(input, result, undefined) : result),
      (err: unknown) => {
        if (!(err instanceof UpstreamError)) throw err;
        return retry(input, undefined, err);
      },
    );
  };
}
