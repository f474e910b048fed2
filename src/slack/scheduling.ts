import type { webApi } from '@slack/bolt';
import type { MessageRef, Rollout, UserKey } from '../core/checklist/model';
import type { DigestPublisher, PostedDigest, ReminderSender, UserTimezoneLookup } from '../core/digest/ports';
import type { ReminderDue } from '../core/digest/reminders';
import type { KeyValueStore, RolloutStore } from '../core/ports';
import type { Logger } from '../logging/logger';
import type { DigestView } from '../views/digest';
import { buildReminderView, type ReminderView } from '../views/reminder';
import type { Template } from '../core/checklist/template';
import { digestBlocks, reminderBlocks } from './blocks/digest';
import { getProfile } from './context';

type WebClient = webApi.WebClient;

async function permalink(client: WebClient, ref: MessageRef | undefined, logger: Logger): Promise<string | undefined> {
  if (!ref || ref.platform !== 'slack') return undefined;
  try {
    const res = await client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts });
    return res.permalink as string | undefined;
  } catch (err) {
    logger.info({ err, channel: ref.channel }, 'no permalink for the card');
    return undefined;
  }
}

/** Posts digests to the rollout's Slack channel, with a link to the living card. */
export class SlackDigestPublisher implements DigestPublisher {
  constructor(private readonly deps: { client: WebClient; logger: Logger }) {}

  async postDigest(rollout: Rollout, view: DigestView): Promise<PostedDigest> {
    const { client, logger } = this.deps;
    const link = await permalink(client, view.card ?? rollout.card, logger);
    const msg = digestBlocks(view, link);
    const res = await client.chat.postMessage({ channel: rollout.conversation.channel, text: msg.text, blocks: msg.blocks, unfurl_links: false });
    // From here on the digest is out: nothing below may throw (the scheduler would post it again).
    const ref: MessageRef = { platform: 'slack', channel: (res.channel as string) ?? rollout.conversation.channel, ts: res.ts as string };
    const own = await permalink(client, ref, logger);
    return { ref, ...(own ? { permalink: own } : {}) };
  }
}

/** Sends owner reminders as DMs from the app, in the owner's own Slack language where it is set. */
export class SlackReminderSender implements ReminderSender {
  constructor(private readonly deps: { client: WebClient; rollouts: RolloutStore; kv: KeyValueStore; template: Template; logger: Logger }) {}

  async sendReminder(user: UserKey, rolloutView: ReminderView, due: ReminderDue): Promise<void> {
    if (!user.startsWith('slack:')) return;
    const { client, logger } = this.deps;
    const links: Record<string, string | undefined> = {};
    const rollouts: Rollout[] = [];
    for (const id of new Set(due.steps.map((s) => s.rolloutId))) {
      const r = await this.deps.rollouts.get(id);
      if (r) rollouts.push(r);
      links[id] = await permalink(client, r?.card, logger);
    }
    const profile = await getProfile(client, this.deps.kv, user.slice('slack:'.length));
    const view = profile.locale && profile.locale !== rolloutView.locale ? buildReminderView(this.deps.template, due, rollouts, profile.locale) : rolloutView;
    const dm = await client.conversations.open({ users: user.slice('slack:'.length) });
    const channel = (dm.channel as { id?: string } | undefined)?.id ?? user.slice('slack:'.length);
    const msg = reminderBlocks(view, links);
    await client.chat.postMessage({ channel, text: msg.text, blocks: msg.blocks, unfurl_links: false });
  }
}

/** An owner's own time zone from their Slack profile (users.info `tz`), cached with the profile. */
export function slackTimezoneLookup(client: WebClient, kv: KeyValueStore): UserTimezoneLookup {
  return async (user) => {
    if (!user.startsWith('slack:')) return undefined;
    const p = await getProfile(client, kv, user.slice('slack:'.length));
    return p.tz;
  };
}
