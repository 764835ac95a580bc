/** One HTTP call to an identity provider: bounded in time and size, answering parsed JSON or a reason it failed. */
import { request, type Dispatcher } from 'undici';

export interface FetchJsonOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The whole call, connect to last byte. */
  timeout: number;
  /** Answers larger than this are refused as garbage. */
  maxBytes: number;
  dispatcher?: Dispatcher;
}

export type FetchJsonResult = { ok: true; status: number; json: unknown } | { ok: false; reason: string };

export async function fetchJson(url: string, options: FetchJsonOptions): Promise<FetchJsonResult> {
  const signal = AbortSignal.timeout(options.timeout);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: options.method ?? 'GET',
      headers: { accept: 'application/json', ...options.headers },
      body: options.body,
      signal,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
  } catch (err) {
    return { ok: false, reason: signal.aborted ? `no answer within ${options.timeout}ms` : `request failed: ${(err as Error).message}` };
  }
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > options.maxBytes) {
        res.body.destroy();
        return { ok: false, reason: `answer larger than ${options.maxBytes} bytes` };
      }
      chunks.push(chunk as Buffer);
    }
    if (res.statusCode < 200 || res.statusCode > 299) return { ok: false, reason: `status ${res.statusCode}` };
    try {
      return { ok: true, status: res.statusCode, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
    } catch {
      return { ok: false, reason: 'the answer is not JSON' };
    }
  } catch (err) {
    return { ok: false, reason: signal.aborted ? `no answer within ${options.timeout}ms` : `reading the answer failed: ${(err as Error).message}` };
  }
}
