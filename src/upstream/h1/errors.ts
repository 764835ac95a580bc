/**
 * The failures of the gateway's own HTTP/1.1 client. Their codes are the ones undici gives the
 * same failures (UND_ERR_*, and llhttp's HPE_* for a malformed answer), so that one classifier
 * (upstream-errors.ts) names them for retries, breakers and the client's answer whichever
 * client made the call; errors of the socket itself keep Node's codes (ECONNREFUSED, ...).
 */
export class H1Error extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'H1Error';
  }
}
