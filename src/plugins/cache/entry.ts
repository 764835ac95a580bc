/** A stored response and its byte encoding (a length-prefixed JSON head, then the body). */

export interface CachedResponse {
  readonly status: number;
  /** Response headers as stored (no hop-by-hop, framing, Set-Cookie or x-request-id). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** When the response was generated (epoch ms; earlier than storing when the upstream sent Age). */
  readonly storedAt: number;
  /** Fresh until (epoch ms); after it the entry is stale, kept for `grace`. */
  readonly freshUntil: number;
  /** May be served to requests carrying Authorization (the upstream said public or s-maxage). */
  readonly shared: boolean;
}

type Head = Omit<CachedResponse, 'body'>;

export function encodeEntry(entry: CachedResponse): Buffer {
  const { body, ...head } = entry;
  const json = Buffer.from(JSON.stringify(head));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([len, json, body]);
}

export function decodeEntry(buf: Buffer): CachedResponse | null {
  if (buf.length < 4) return null;
  const n = buf.readUInt32BE(0);
  if (4 + n > buf.length) return null;
  try {
    const head = JSON.parse(buf.subarray(4, 4 + n).toString()) as Head;
    if (typeof head.status !== 'number' || !Array.isArray(head.headers)) return null;
    return { ...head, body: buf.subarray(4 + n) };
  } catch {
    return null;
  }
}

/** Age in whole seconds, as the Age header says it. */
export function ageOf(entry: CachedResponse, now: number): number {
  return Math.max(0, Math.floor((now - entry.storedAt) / 1000));
}
