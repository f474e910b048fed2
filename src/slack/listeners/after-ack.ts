import type { RespondFn, webApi } from '@slack/bolt';
import { t } from '../../i18n';
import { isWorkQueueFull } from '../../util/work-queue';
import type { SlackWork } from '../offload';
import type { SlackDeps } from '../app';

/**
 * Takes a slot of the post-ack work queue (`deps.work`) for one interaction, so its work runs after the ack's
 * turn and within the queue's capacity. When the queue is full, the user hears "busy, try again" (in the
 * default language: nothing about them is known yet), `bwprep_work_dropped_total` counts it, and this
 * returns undefined: the caller does nothing more. Otherwise the caller must call the returned release
 * in a `finally`; it is idempotent, so a caller may also let go earlier, before work bounded otherwise
 * (the living card's per-rollout coalescing).
 */
export async function workSlot(deps: SlackDeps, tell: (text: string) => Promise<unknown>): Promise<(() => void) | undefined> {
  try {
    return await deps.work.acquire();
  } catch (e) {
    if (!isWorkQueueFull(e)) throw e;
    // The metric counts every refusal; the log says so once and then every 100th time (no log flood under overload).
    const { dropped } = deps.work.stats();
    if (dropped % 100 === 1) deps.logger.warn({ queue: e.queue, ...e.capacity, dropped }, 'work queue full: interaction refused with a "busy" reply');
    await tell(`⚠️ ${t(deps.defaultLocale, 'error.busy')}`).catch((err: unknown) => deps.logger.warn({ err }, 'could not send the busy reply'));
    return undefined;
  }
}

/**
 * The work after the ack of one command or click, holding its work slot (`release`, from `workSlot`):
 * handed to the Slack work thread when there is one (the slot goes back when that thread says the work is
 * settled), else done here by `here` (which calls `release` itself once settled; released at the end anyway).
 */
export async function doWork(
  deps: SlackDeps,
  work: SlackWork,
  tell: (text: string) => Promise<unknown>,
  release: () => void,
  here: () => Promise<void>,
): Promise<void> {
  let handed = false;
  try {
    handed = deps.offload ? (await deps.offload.run(work, tell, release)) === 'handed' : false;
    if (!handed) await here();
  } finally {
    if (!handed) release();
  }
}

/**
 * The "tell the person" function of one interaction (the busy reply, the lost-work reply): ephemeral through
 * `response_url` when there is one, else a DM through `client`. Built here, outside the Bolt listener, on
 * purpose: V8 gives all closures of one scope a single shared context, so a `tell` written inside the
 * listener also held the parsed payload (a click's `body` carries the whole 9 KB card), and the Slack work
 * thread's pending map keeps `tell` until the work is done — hundreds of ms under load. That kept each
 * payload alive across young-generation GCs on the acks' thread (issue 12, bench/README.md "Main-thread GC").
 */
export function replyTo(respond: RespondFn, responseUrl: string | undefined, client: webApi.WebClient, userId: string): (text: string) => Promise<unknown> {
  return responseUrl
    ? (text) => respond({ response_type: 'ephemeral', replace_original: false, text })
    : (text) => client.chat.postMessage({ channel: userId, text });
}

/** The ephemeral "tell the person" of a slash command (its `respond`), holding nothing else (see replyTo). */
export function ephemeralReply(respond: RespondFn): (text: string) => Promise<unknown> {
  return (text) => respond({ response_type: 'ephemeral', text });
}
