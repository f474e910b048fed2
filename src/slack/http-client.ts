import { STATUS_CODES } from 'node:http';
import type { webApi } from '@slack/bolt';
import { Agent, request } from 'undici';
import { yieldToIo } from '../util/work-queue';

type FetchFunction = NonNullable<webApi.WebClientOptions['fetch']>;
type FetchResponse = Awaited<ReturnType<FetchFunction>>;

export interface SlackHttpOptions {
  /** Keep-alive connections per origin (slack.com, hooks.slack.com). Default 64: with 16, replies queued behind each other under load (bench/README.md). */
  connections?: number;
  /** Time to wait for a response's headers, and between body chunks, in ms. Default 30 000. */
  timeoutMs?: number;
}

export interface SlackHttp {
  /**
   * A WHATWG-`fetch`-shaped function for `@slack/web-api`'s and Bolt's `clientOptions.fetch`
   * (WebClientOptions.fetch in @slack/web-api 8; Bolt 5 uses the same function for `respond()`).
   * String bodies go through `undici.request` on a keep-alive pool per origin; the response body is read
   * whole (Slack answers are small JSON) so no connection is left holding an unread body. FormData bodies
   * (file uploads) take the global `fetch`: the WebClient builds them with the global FormData, which only
   * Node's own undici recognizes (the npm undici would send "[object FormData]").
   */
  fetch: FetchFunction;
  /** Closes the pools; requests in flight finish first (each bounded by `timeoutMs`). */
  close(): Promise<void>;
  /** Closes the pools at once: requests still in flight fail (for shutdown, after its drain bound). */
  destroy(): Promise<void>;
}

/**
 * Outbound HTTP for Slack over undici pools instead of the global `fetch`.
 *
 * Why: measured on this 2-core machine (issue 12, bench/README.md) one `chat.update` with the 9 KB card cost
 * ~1.9 ms of CPU through the WebClient on the global fetch and ~1.0 ms with this function; a `respond()`
 * 0.76 ms against 0.14 ms. The global fetch builds a WHATWG Request/Response, header guards and a web
 * stream per call; `undici.request` does none of that.
 */
export function createSlackHttp(opts: SlackHttpOptions = {}): SlackHttp {
  const timeout = opts.timeoutMs ?? 30_000;
  const dispatcher = new Agent({ connections: opts.connections ?? 64, keepAliveTimeout: 30_000, headersTimeout: timeout, bodyTimeout: timeout });
  const fetch: FetchFunction = async (url, init = {}) => {
    if (init.body !== undefined && typeof init.body !== 'string') {
      // Multipart (files.uploadV2): rare, so the global fetch's cost does not matter.
      return (await globalThis.fetch(url, init as RequestInit)) as unknown as FetchResponse;
    }
    const res = await request(url, {
      dispatcher,
      method: (init.method ?? 'GET') as 'GET',
      ...(init.headers ? { headers: init.headers } : {}),
      ...(init.body !== undefined ? { body: init.body } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const body = withoutEcho(String(url), res.statusCode, Buffer.from(await res.body.arrayBuffer()));
    // The caller's work goes on in the check phase: requests waiting in this poll phase (acks) go first.
    await yieldToIo();
    return bufferedResponse(String(url), res.statusCode, res.headers, body);
  };
  return { fetch, close: () => dispatcher.close(), destroy: () => dispatcher.destroy() };
}

/** Web API methods whose answer echoes the whole message that was sent (the 9 KB card), which bwprep never reads. */
const ECHOING_METHODS = ['/chat.update', '/chat.postMessage'];

/**
 * The answer of `chat.update` / `chat.postMessage` without its `message` (Slack's echo of what was sent);
 * `ok`, `channel`, `ts`, `error`, warnings and metadata stay. Why: the WebClient builds a debug line of every
 * answer at every log level (`JSON.stringify(redact(result))`, a regex test per key), and for the card's echo
 * that cost more CPU than the call itself (issue 12, bench/README.md "After the application layer, round 2").
 * Any other answer, or one that is not a JSON object, passes unchanged.
 */
function withoutEcho(url: string, status: number, body: Buffer): Buffer {
  if (status !== 200 || !ECHOING_METHODS.some((m) => url.endsWith(m))) return body;
  let data: unknown;
  try {
    data = JSON.parse(body.toString('utf8'));
  } catch {
    return body; // not JSON: the WebClient reports it as it would have
  }
  if (typeof data !== 'object' || data === null || !('message' in data)) return body;
  delete (data as { message?: unknown }).message;
  return Buffer.from(JSON.stringify(data));
}

function bufferedResponse(url: string, status: number, raw: Record<string, string | string[] | undefined>, body: Buffer): FetchResponse {
  const headers = new Map<string, string>();
  for (const [k, v] of Object.entries(raw)) if (v !== undefined) headers.set(k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v);
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: STATUS_CODES[status] ?? '',
    url,
    headers: { get: (name: string) => headers.get(name.toLowerCase()) ?? null, entries: () => headers.entries() },
    arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
    text: async () => body.toString('utf8'),
    json: async () => JSON.parse(body.toString('utf8')) as unknown,
  };
}
