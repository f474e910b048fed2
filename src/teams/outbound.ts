/**
 * Every request bwprep makes to the Bot Connector (replies, new messages, updates, deletes, new 1:1
 * conversations) goes through one Azure pipeline policy pair installed on the connector client:
 *
 * - a per-conversation queue (Bottleneck) that keeps each conversation under Teams' per-bot-per-thread
 *   limits — 7 operations per 1 s, 8 per 2 s, 60 per 30 s (Microsoft: "Optimize your bot with rate
 *   limiting", msteams-docs bots/how-to/rate-limit.md) — and sends one request at a time, so a
 *   conversation's messages keep their order;
 * - one retry layer for 429, 412, 502 and 504 (the statuses that page names), honouring `Retry-After`
 *   and otherwise waiting an exponentially growing, jittered delay (`calculateRetryDelay` of
 *   @azure/core-util). The Azure SDK's default retry policy is removed from the client, so a failing
 *   request is retried by this layer only: no retries of retries.
 *
 * A 403, or a 404 that says the conversation is gone, is reported to `onConversationGone` (the bot was
 * removed or blocked, see botbuilder-js#4722 and MicrosoftDocs/bot-docs#1527) and never retried.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { calculateRetryDelay } from '@azure/core-util';
import {
  type Pipeline,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
  type RetryStrategy,
  retryPolicy,
  systemErrorRetryPolicy,
} from '@azure/core-rest-pipeline';
import Bottleneck from 'bottleneck';
import type { Logger } from '../logging/logger';

/** Statuses Microsoft tells bots to retry with exponential backoff (rate-limit.md). */
const RETRY_STATUSES: ReadonlySet<number> = new Set([412, 429, 502, 504]);
const sendOnceScope = new AsyncLocalStorage<true>();

/**
 * Runs `fn` with *no resend*: inside it, a connector request is sent once, whatever the answer. A scheduled
 * digest is sent this way where its conversation can be read back (graph.ts): after a 502/504 or a lost
 * connection the post may be out, so the scheduler looks for it instead of the client posting it twice;
 * after a 429/412 (nothing was done) the scheduler tries again after its back-off. The client's own
 * retries could outlast the scheduler's lease (up to 4 × 30 s), and a replica taking over would then look,
 * find nothing yet, and post while this one was still retrying.
 */
export function withoutResend<T>(fn: () => Promise<T>): Promise<T> {
  return sendOnceScope.run(true, fn);
}

export interface OutboundOptions {
  logger: Logger;
  /** Called once per failed request when the connector says the bot can no longer post in a conversation. */
  onConversationGone?: (conversationId: string, reason: { status: number; code?: string }) => void | Promise<void>;
  /** Retries after the first attempt (default 4). */
  maxRetries?: number;
  /** Backoff base in ms (default 250): retry n (from 1) waits a jittered delay between base·2ⁿ⁻²  and base·2ⁿ⁻¹, unless Retry-After says otherwise. */
  retryDelayMs?: number;
  /** Upper bound of one backoff delay and of an honoured Retry-After, in ms (default 30 000). A longer Retry-After fails the send instead of holding it. */
  maxRetryDelayMs?: number;
}

/**
 * Token bucket per conversation, derived from the documented per-thread limits:
 * at most 4 requests at once, then one more every 600 ms, never two within 143 ms.
 * Any 1 s window then holds ≤ 5 (limit 7), any 2 s ≤ 7 (limit 8), any 30 s ≤ 54 (limit 60).
 * The hourly limit (1800 per hour) is left to the 429 retry: no bwprep flow comes near it.
 */
const CONVERSATION_LIMITS = {
  maxConcurrent: 1,
  minTime: 143,
  reservoir: 4,
  reservoirIncreaseAmount: 1,
  reservoirIncreaseInterval: 600,
  reservoirIncreaseMaximum: 4,
} as const satisfies Bottleneck.ConstructorOptions;

/** The conversation a connector URL addresses (`…/v3/conversations/{id}/activities…`), or `create` for `POST /v3/conversations`. */
export function conversationOfUrl(url: string): string {
  const path = new URL(url).pathname;
  const m = /\/v3\/conversations\/([^/]+)/.exec(path);
  if (!m) return 'create';
  try {
    return decodeURIComponent(m[1] as string);
  } catch {
    return m[1] as string;
  }
}

/** `Retry-After` in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The connector's error code (`{"error":{"code":"ConversationNotFound"}}`), when the body has one. */
function errorCode(res: PipelineResponse): string | undefined {
  try {
    const body = JSON.parse(res.bodyAsText ?? '') as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string' ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when a failed request means bwprep can no longer post in that conversation: 403 (removed from the
 * team or chat, blocked by the user, disabled by an admin), or 404 on a new message or with
 * `ConversationNotFound`. A 404 on updating or deleting one message (`ActivityNotFoundInConversation`)
 * only means that message is gone.
 */
export function meansConversationGone(method: string, url: string, status: number, code: string | undefined): boolean {
  if (conversationOfUrl(url) === 'create') return false;
  if (status === 403) return true;
  if (status !== 404) return false;
  if (code === 'ConversationNotFound') return true;
  if (code === 'ActivityNotFoundInConversation') return false;
  return method === 'POST';
}

/** The queues and the retry strategy, shared by every connector client of one bwprep process. */
export class OutboundControl {
  private readonly queues: Bottleneck.Group;
  private readonly opts: Required<Pick<OutboundOptions, 'maxRetries' | 'retryDelayMs' | 'maxRetryDelayMs'>> & OutboundOptions;

  constructor(opts: OutboundOptions) {
    this.opts = { maxRetries: 4, retryDelayMs: 250, maxRetryDelayMs: 30_000, ...opts };
    // Idle conversation queues are dropped after 5 minutes (Bottleneck.Group's timeout).
    this.queues = new Bottleneck.Group({ ...CONVERSATION_LIMITS, timeout: 5 * 60_000 });
    this.queues.on('error', (err: unknown) => this.opts.logger.warn({ err }, 'teams send queue error'));
  }

  /** The retry strategy of rate-limit.md; other statuses and errors fall through to the next strategy. */
  private strategy(): RetryStrategy {
    const { retryDelayMs, maxRetryDelayMs, logger } = this.opts;
    return {
      name: 'bwprepTeamsRetry',
      retry: ({ retryCount, response }) => {
        if (!response || !RETRY_STATUSES.has(response.status)) return { skipStrategy: true };
        if (sendOnceScope.getStore()) return { skipStrategy: true };
        const after = retryAfterMs(response.headers.get('retry-after') ?? undefined);
        if (after !== undefined && after > maxRetryDelayMs) {
          logger.warn(
            { status: response.status, retryAfterMs: after, url: safeUrl(response.request.url) },
            'teams connector asked to wait longer than bwprep holds a send; giving up',
          );
          return { skipStrategy: true };
        }
        const wait = after ?? calculateRetryDelay(retryCount, { retryDelayInMs: retryDelayMs, maxRetryDelayInMs: maxRetryDelayMs }).retryAfterInMs;
        logger.info(
          { status: response.status, retry: retryCount + 1, waitMs: wait, conversation: conversationOfUrl(response.request.url) },
          'teams connector busy; retrying',
        );
        return { retryAfterInMs: wait };
      },
    };
  }

  /** Runs each attempt through its conversation's queue, and reports conversations the bot has lost. */
  private queuePolicy(): PipelinePolicy {
    return {
      name: 'bwprepTeamsQueue',
      sendRequest: async (request: PipelineRequest, next) => {
        const conversation = conversationOfUrl(request.url);
        const res = await this.queues.key(conversation).schedule(() => next(request));
        if (res.status === 403 || res.status === 404) {
          const code = errorCode(res);
          if (meansConversationGone(request.method, request.url, res.status, code)) {
            this.opts.logger.warn({ conversation, status: res.status, code }, 'teams conversation no longer reachable (bot removed or blocked)');
            await Promise.resolve(this.opts.onConversationGone?.(conversation, { status: res.status, ...(code ? { code } : {}) })).catch((err) =>
              this.opts.logger.warn({ err, conversation }, 'marking a teams conversation inactive failed'),
            );
          }
        }
        return res;
      },
    };
  }

  /**
   * Replaces the Azure default retry policy of one connector client's pipeline with bwprep's retry and
   * queue. Returns false (and leaves the pipeline alone) when the pipeline has no default retry policy,
   * i.e. the SDK changed shape; sends then still work, with the SDK's own retries.
   */
  install(pipeline: Pipeline): boolean {
    const removed = pipeline.removePolicy({ name: 'defaultRetryPolicy' });
    if (removed.length === 0) return false;
    pipeline.addPolicy(retryPolicy([this.strategy()], { maxRetries: this.opts.maxRetries }), { phase: 'Retry' });
    // Dropped connections and timeouts (no response at all) are retried as before, three times, except
    // where a resend could deliver twice (withoutResend).
    const systemErrors = systemErrorRetryPolicy({ maxRetries: 3 });
    pipeline.addPolicy(
      { name: 'bwprepSystemErrorRetry', sendRequest: (request, next) => (sendOnceScope.getStore() ? next(request) : systemErrors.sendRequest(request, next)) },
      { phase: 'Retry' },
    );
    pipeline.addPolicy(this.queuePolicy(), { afterPhase: 'Retry' });
    return true;
  }

  async stop(): Promise<void> {
    await Promise.all(this.queues.limiters().map(({ limiter }) => limiter.disconnect(false)));
  }
}

/** A URL without its query string, for logs. */
function safeUrl(url: string): string {
  return url.split('?')[0] ?? url;
}
