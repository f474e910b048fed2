import type { webApi } from '@slack/bolt';
import type { Actor, Rollout } from '../core/checklist/model';
import type { ChecklistService } from '../core/checklist/service';
import type { Clock } from '../core/ports';
import type { Logger } from '../logging/logger';
import { t } from '../i18n';
import { Coalescer } from '../util/coalesce';
import { buildChecklistView } from '../views/checklist';
import { checklistBlocks, checklistFallback } from './blocks/checklist';
import { textMessage } from './blocks/messages';
import type { KnownBlock } from './blocks/types';

type WebClient = webApi.WebClient;

const slackError = (e: unknown) => (e as { data?: { error?: string } }).data?.error;

/**
 * Blocks as the JSON string Slack's form-encoded Web API takes for `blocks` (what the WebClient would send
 * anyway: it JSON-encodes array arguments). Given an array, the WebClient first walks it twice for a debug
 * line it builds even at info level (`redact`, `JSON.stringify`); a string it passes through. Measured with
 * the 9 KB card: 1.01 → 0.61 ms of CPU per chat.update (bench/README.md).
 */
const wireBlocks = (blocks: unknown[]) => JSON.stringify(blocks) as unknown as KnownBlock[];

/**
 * The living checklist card: one current card per channel, updated in place (chat.update) after every
 * change; `status` re-posts it and retires the old one. Card work for one rollout is coalesced in-process
 * (src/util/coalesce.ts): one post or update in flight per rollout, and everything asked meanwhile shares
 * one waiting run that renders the latest stored state (a waiting update becomes a re-post if one is asked
 * for), so two quick clicks never leave an older card behind and a burst costs at most two Slack calls.
 */
export class CardPublisher {
  private readonly lanes = new Coalescer();

  constructor(
    private readonly deps: { service: ChecklistService; clock: Clock; logger: Logger },
  ) {}

  render(rollout: Rollout) {
    const view = buildChecklistView(this.deps.service.template, rollout, this.deps.clock.now());
    return { text: checklistFallback(view), blocks: checklistBlocks(view) };
  }

  /** Posts a fresh card to the rollout's channel and retires the previous one. Throws Slack errors (e.g. not_in_channel). */
  async post(client: WebClient, rolloutId: string, actor: Actor): Promise<void> {
    // Posts that wait together post one card (the latest state; the first asker is the audit's actor).
    await this.lanes.run(rolloutId, async () => {
      const rollout = await this.mustGet(rolloutId);
      const msg = this.render(rollout);
      const res = await client.chat.postMessage({ channel: rollout.conversation.channel, text: msg.text, blocks: wireBlocks(msg.blocks), unfurl_links: false });
      const ts = res.ts as string;
      const { previous } = await this.deps.service.setCard(rolloutId, { platform: 'slack', channel: (res.channel as string) ?? rollout.conversation.channel, ts }, actor);
      if (previous && previous.ts !== ts) {
        const retired = textMessage(`_${t(rollout.settings.locale, 'card.retired')}_`);
        try {
          await client.chat.update({ channel: previous.channel, ts: previous.ts, text: retired.text, blocks: wireBlocks(retired.blocks) });
        } catch (e) {
          // The old card may have been deleted by someone; the new one stands.
          this.deps.logger.info({ err: slackError(e) ?? String(e), rolloutId }, 'could not retire the previous card');
        }
      }
    }, { rank: 1 });
  }

  /**
   * Re-renders the living card in place, if there is one. Another replica may write a newer version while
   * this one renders; after updating, the version is read again and the card re-rendered until it holds the
   * latest state (bounded), so the last word on the card is the latest state, not the last writer's.
   * A vanished card is forgotten (the next `status` posts anew).
   */
  async refresh(client: WebClient, rolloutId: string, overlay?: { checking?: boolean }): Promise<void> {
    // Many clicks on one card (and Slack's chat.update limit, ~50 a minute) need not mean many renders:
    // a refresh still waiting its turn will read the newest state anyway, so later requests join it.
    // The "checking" overlay is its own render: it neither joins nor is joined.
    return this.lanes.run(rolloutId, () => this.renderLatest(client, rolloutId, overlay), { exclusive: !!overlay?.checking });
  }

  private async renderLatest(client: WebClient, rolloutId: string, overlay?: { checking?: boolean }): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const rollout = await this.deps.service.get(rolloutId);
      if (!rollout?.card || rollout.card.platform !== 'slack') return;
      const msg = this.render(rollout);
      if (overlay?.checking) {
        msg.blocks.splice(2, 0, { type: 'context', elements: [{ type: 'mrkdwn', text: `⏳ ${t(rollout.settings.locale, 'card.checking')}` }] });
      }
      try {
        await client.chat.update({ channel: rollout.card.channel, ts: rollout.card.ts, text: msg.text, blocks: wireBlocks(msg.blocks) });
      } catch (e) {
        const code = slackError(e);
        if (code === 'message_not_found' || code === 'channel_not_found') {
          await this.deps.service.setCard(rolloutId, undefined, { user: 'system:bwprep', surface: 'slack' });
          return;
        }
        throw e;
      }
      // A run already waiting for this card renders the newest state anyway: no re-read, no second update.
      if (this.lanes.hasWaiting(rolloutId)) return;
      const after = await this.deps.service.get(rolloutId);
      if (!after || after.version === rollout.version) return;
    }
  }

  /**
   * Refresh after a saved change: the change stands even when Slack refuses the update, so the user hears
   * that it is saved and how to get a fresh card, instead of a generic error. Returns false then.
   */
  async refreshAfterChange(client: WebClient, rolloutId: string): Promise<boolean> {
    try {
      await this.refresh(client, rolloutId);
      return true;
    } catch (e) {
      this.deps.logger.warn({ err: slackError(e) ?? String(e), rolloutId }, 'change saved, card not updated');
      return false;
    }
  }

  private async mustGet(id: string): Promise<Rollout> {
    const r = await this.deps.service.get(id);
    if (!r) throw new Error(`rollout ${id} vanished`);
    return r;
  }
}
