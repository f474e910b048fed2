/**
 * The Teams activity handler: remembers conversations and users from every activity, and answers
 * commands typed to the bot (`@bwprep help` in a channel or group chat, `help` in a personal chat).
 *
 * Commands and card presses go to the application layer (src/interactions/); this file only translates
 * between Teams' wire and its calls.
 */
import {
  type Activity,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type ConversationReference,
  type FileConsentCardResponse,
  type InvokeResponse,
  TeamsActivityHandler,
  TeamsInfo,
  TurnContext,
} from 'botbuilder';
import { randomUUID } from 'node:crypto';
import type { Actor, ConversationRef as BwConversation, Locale } from '../core/checklist/model';
import type { SetupField } from '../core/checklist/settings';
import type { KeyValueStore } from '../core/ports';
import { t, toLocale, tr } from '../i18n';
import type { Interactions } from '../interactions';
import type { DirectMessage, ExportFile, Reply, Requester } from '../interactions/ports';
import type { Logger } from '../logging/logger';
import { ACTIONS, type ActionId, decodeStepRef } from '../views/actions';
import type { Rich } from '../views/rich';
import { baseConversationId, type ConversationRef, isExternalTeamsUser, type TeamsConversations, type TeamsUserDirectory, teamsUserKey } from './directory';
import { readSetupData, resubmittedValues, setupCard, setupDoneCard } from './setup';
import { ADAPTIVE_CARD, escapeMarkdown, noticeText, type RenderContext, renderCheckReport, renderHelp, renderMine, renderNotice } from './render';

/** What the bot needs of the application layer and of the Teams platform (set once both exist). */
export interface TeamsLayer {
  interactions: Interactions;
  cardFor(conversationId: string, view: ReturnType<Interactions['cards']['view']>, checking?: boolean): Promise<{ contentType: string; content: unknown }>;
  /** A notice to one person in their 1:1 chat with the bot (info icon unless `tone`); false when bwprep cannot reach them there. */
  tell?(user: string, message: Extract<DirectMessage, { kind: 'notice' }>): Promise<boolean>;
  /** A proactive message into a conversation (a channel thread: `<channel>;messageid=<root>`), outside any turn. */
  post?(conversationId: string, activity: Partial<Activity>): Promise<void>;
}

/** Teams' file offer card and the file message that follows an upload (bots-filesv4). */
const FILE_CONSENT_CARD = 'application/vnd.microsoft.teams.card.file.consent';
const FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';
/** An Entra (AAD) object id, what Teams' people search (Data.Query graph users) gives as a choice's value. */
const AAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Invoke answers (learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-adaptive-cards/user-specific-views). */
const INVOKE_MESSAGE = 'application/vnd.microsoft.activity.message';
const INVOKE_ERROR = 'application/vnd.microsoft.error';
const SEARCH_RESPONSE = 'application/vnd.microsoft.search.searchResponse';
const isRecord = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** The body Teams shows the presser alone: a message (200). */
export function invokeMessage(text: string): InvokeResponse<AdaptiveCardInvokeResponse> {
  return { status: 200, body: { statusCode: 200, type: INVOKE_MESSAGE, value: text as unknown as Record<string, unknown> } };
}

/** How long a file offer can be accepted, in ms. */
const EXPORT_OFFER_MS = 60 * 60_000;
/** The largest Markdown report posted as a message in a channel (Teams refuses messages of about 28 KB and up). */
const MAX_REPORT_MESSAGE_BYTES = 20 * 1024;

export interface TeamsBotDeps {
  conversationStore: TeamsConversations;
  /** Pending file offers (`teams:export:<id>`, one hour). */
  kv: KeyValueStore;
  directory: TeamsUserDirectory;
  logger: Logger;
  /** Language when a user's Teams locale is not one bwprep speaks. */
  defaultLocale: Locale;
  /** How long a roster lookup of a user (home tenant, role) stays fresh, in ms. Default one day. */
  rosterMaxAgeMs?: number;
  now: () => Date;
}

/** The `clientInfo` entity Teams adds to user activities (msteams-docs#745). */
interface ClientInfo {
  type: 'clientInfo';
  locale?: string;
  timezone?: string;
}

function clientInfo(activity: Partial<Activity>): ClientInfo | undefined {
  return (activity.entities ?? []).find((e) => e.type === 'clientInfo') as ClientInfo | undefined;
}

/** The Teams locale of the sender: `activity.locale`, else the clientInfo entity's. */
function activityLocale(activity: Partial<Activity>): string | undefined {
  return activity.locale || clientInfo(activity)?.locale || undefined;
}

/** The IANA time zone of the sender: `activity.localTimezone`, else the clientInfo entity's (absent in some Copilot contexts). */
function activityTimezone(activity: Partial<Activity>): string | undefined {
  return activity.localTimezone || clientInfo(activity)?.timezone || undefined;
}

/** The reader's language for replies: their Teams locale when bwprep speaks it, else `fallback`. */
export function replyLocale(activity: Partial<Activity>, fallback: Locale): Locale {
  return toLocale(activityLocale(activity)) ?? fallback;
}

/**
 * Whether a message is for bwprep: always in a personal chat; in a channel or group chat only when it
 * @mentions the bot (Teams' mention entity names the bot's channel account, the activity's recipient).
 * bwprep's cards use Action.Execute (an invoke), never Action.Submit, so no message `value` is ours.
 * Teams delivers unmentioned messages to apps with
 * the ChannelMessage.Read.Group / ChatMessage.Read.Chat consent (learn.microsoft.com/microsoftteams/platform/
 * bots/how-to/conversations/channel-messages-with-rsc).
 */
export function addressedToBot(activity: Partial<Activity>): boolean {
  const type = activity.conversation?.conversationType;
  if (!type || type === 'personal') return true;
  const bot = activity.recipient?.id;
  return Boolean(bot) && (activity.entities ?? []).some((e) => e.type === 'mention' && (e as { mentioned?: { id?: string } }).mentioned?.id === bot);
}

/** The installing tenant: channelData.tenant.id, else conversation.tenantId. */
function activityTenant(activity: Partial<Activity>): string | undefined {
  const cd = activity.channelData as { tenant?: { id?: string } } | undefined;
  return cd?.tenant?.id || activity.conversation?.tenantId || undefined;
}

function activityTeam(activity: Partial<Activity>): { teamId?: string; aadGroupId?: string } {
  const team = (activity.channelData as { team?: { id?: unknown; aadGroupId?: unknown } } | undefined)?.team;
  return {
    ...(typeof team?.id === 'string' && team.id ? { teamId: team.id } : {}),
    // Teams sends the group id on install and team events (conversationUpdate), not on every message.
    ...(typeof team?.aadGroupId === 'string' && team.aadGroupId ? { aadGroupId: team.aadGroupId } : {}),
  };
}

function toRef(r: Partial<ConversationReference>): ConversationRef {
  const conv = r.conversation!;
  return {
    serviceUrl: r.serviceUrl!,
    channelId: r.channelId ?? 'msteams',
    conversation: {
      id: conv.id,
      ...(conv.conversationType ? { conversationType: conv.conversationType } : {}),
      ...(conv.tenantId ? { tenantId: conv.tenantId } : {}),
      ...(conv.isGroup !== undefined ? { isGroup: conv.isGroup } : {}),
      ...(conv.name ? { name: conv.name } : {}),
    },
    bot: { id: r.bot!.id, ...(r.bot?.name ? { name: r.bot.name } : {}) },
    ...(r.user
      ? { user: { id: r.user.id, ...(r.user.name ? { name: r.user.name } : {}), ...(r.user.aadObjectId ? { aadObjectId: r.user.aadObjectId } : {}) } }
      : {}),
    ...(r.locale ? { locale: r.locale } : {}),
  };
}

export class BwprepTeamsBot extends TeamsActivityHandler {
  private layer: TeamsLayer | undefined;
  /** Work that goes on after its invoke was answered (a card update for everyone, a check run). */
  private readonly background = new Set<Promise<unknown>>();

  /** Resolves once the work started after answered invokes has finished (for shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /** Tracks work that outlives its turn; `work` must handle its own failures (every caller logs them). */
  private inBackground(work: Promise<unknown>): void {
    this.background.add(work);
    const forget = () => this.background.delete(work);
    work.then(forget, forget);
  }

  /** Connects the bot to the application layer (after every platform is registered). */
  attach(layer: TeamsLayer): void {
    this.layer = layer;
  }

  constructor(private readonly deps: TeamsBotDeps) {
    super();
    // Messages not addressed to bwprep never get here (index.ts drops them before the turn runs).
    this.onMessage(async (ctx, next) => {
      await this.remember(ctx, false);
      await this.answer(ctx);
      await next();
    });
    this.onConversationUpdate(async (ctx, next) => {
      const a = ctx.activity;
      const botId = a.recipient?.id;
      if (a.membersAdded?.some((m) => m.id === botId)) await this.remember(ctx, true);
      if (a.membersRemoved?.some((m) => m.id === botId)) await this.forget(ctx);
      const cd = a.channelData as { eventType?: string; channel?: { id?: string } } | undefined;
      if (cd?.eventType === 'channelDeleted' && cd.channel?.id && (await this.deps.conversationStore.markInactive(cd.channel.id, 'channel_deleted')))
        this.deps.logger.info({ conversation: cd.channel.id }, 'teams channel deleted; marked inactive');
      await next();
    });
    this.onInstallationUpdateAdd(async (ctx, next) => {
      await this.remember(ctx, true);
      await ctx.sendActivity({ type: 'message', text: t(this.localeOf(ctx.activity), 'teams.welcome'), textFormat: 'markdown' });
      await next();
    });
    this.onInstallationUpdateRemove(async (ctx, next) => {
      await this.forget(ctx);
      await next();
    });
  }

  /** The reader's language for replies: their Teams locale when bwprep speaks it, else the default. */
  private localeOf(activity: Partial<Activity>): Locale {
    return replyLocale(activity, this.deps.defaultLocale);
  }

  private async remember(ctx: TurnContext, installed: boolean): Promise<void> {
    const a = ctx.activity;
    const reference = toRef(TurnContext.getConversationReference(a));
    const tenantId = activityTenant(a);
    await this.deps.conversationStore.remember(reference, { ...(tenantId ? { tenantId } : {}), ...activityTeam(a), installed });
    const from = a.from;
    // Only people have an AAD object id; other bots and the channel itself do not.
    if (!from?.aadObjectId || from.id === a.recipient?.id) return;
    const locale = activityLocale(a);
    const timezone = activityTimezone(a);
    const user = await this.deps.directory.observe({
      id: from.id,
      aadObjectId: from.aadObjectId,
      ...(from.name ? { name: from.name } : {}),
      ...(locale ? { locale } : {}),
      ...(timezone ? { timezone } : {}),
      ...(tenantId ? { conversationTenantId: tenantId } : {}),
      serviceUrl: a.serviceUrl,
      ...(a.conversation?.id ? { conversationId: a.conversation.id } : {}),
      ...(a.conversation?.conversationType === 'personal' ? { personalConversationId: a.conversation.id } : {}),
    });
    const maxAge = this.deps.rosterMaxAgeMs ?? 24 * 3600_000;
    if (a.type === 'message' && a.conversation?.conversationType !== 'personal') await this.readRoster(ctx, maxAge);
    const fresh = user.rosterCheckedAt && this.deps.now().getTime() - Date.parse(user.rosterCheckedAt) < maxAge;
    if (fresh || a.type !== 'message') return;
    // The roster knows the user's home tenant and role (guests, shared channels); one lookup a day.
    try {
      const member = await TeamsInfo.getMember(ctx, from.id);
      await this.deps.directory.recordRoster(from.aadObjectId, {
        ...(member.tenantId ? { tenantId: member.tenantId } : {}),
        ...(member.userRole ? { userRole: member.userRole } : {}),
      });
    } catch (err) {
      this.deps.logger.debug({ err, conversation: a.conversation?.id }, 'teams roster lookup failed; keeping the conversation tenant');
    }
  }

  /**
   * The conversation's members from its roster (TeamsInfo.getPagedMembers), at most once a day per
   * conversation: the static choices of the card's owner picker beside Teams' people search, and people a
   * reminder can reach. One page of up to 500 (a larger team still has the people search).
   */
  private async readRoster(ctx: TurnContext, maxAge: number): Promise<void> {
    const id = ctx.activity.conversation?.id;
    if (!id) return;
    const key = `teams:roster-at:${baseConversationId(id)}`;
    const last = await this.deps.kv.get<string>(key);
    if (last && this.deps.now().getTime() - Date.parse(last) < maxAge) return;
    await this.deps.kv.set(key, this.deps.now().toISOString());
    try {
      const page = await TeamsInfo.getPagedMembers(ctx, 500);
      for (const m of page.members ?? []) {
        if (!m.aadObjectId) continue;
        await this.deps.directory.recordMember({
          id: m.id,
          aadObjectId: m.aadObjectId,
          ...(m.name ? { name: m.name } : {}),
          ...(m.tenantId ? { tenantId: m.tenantId } : {}),
          ...(m.userRole ? { userRole: m.userRole } : {}),
          serviceUrl: ctx.activity.serviceUrl,
        });
        await this.deps.directory.addMember(id, m.aadObjectId);
      }
    } catch (err) {
      this.deps.logger.info({ err, conversation: id }, 'teams roster could not be read; the owner picker offers the people seen so far');
    }
  }

  private async forget(ctx: TurnContext): Promise<void> {
    const id = ctx.activity.conversation?.id;
    if (!id) return;
    if (await this.deps.conversationStore.markInactive(id, 'uninstalled'))
      this.deps.logger.info({ conversation: id }, 'teams app removed from a conversation; marked inactive');
  }

  /**
   * Every invoke, checked before botbuilder reads its `value`: botbuilder answers an invoke it has no handler
   * for with 501 and a malformed one with an English error (or a TypeError); Teams would show "Something went
   * wrong". A card press whose value is no Action.Execute is refused like a press without a step; a search
   * (`application/search`, a Data.Query of a forged card: bwprep serves no dataset of its own) finds nothing;
   * any other invoke, or a file consent answer that is neither accept nor decline, gets 400 with a message in
   * the sender's language. (Found by test/fuzz/teams-activities.fuzz.test.ts.)
   */
  protected override async onInvokeActivity(ctx: TurnContext): Promise<InvokeResponse> {
    const a = ctx.activity;
    const value: unknown = a.value;
    const unsupported = (): InvokeResponse => {
      const message = t(this.localeOf(a), 'teams.unsupported_request');
      return { status: 400, body: { statusCode: 400, type: INVOKE_ERROR, value: { code: 'BadRequest', message } } };
    };
    switch (a.name) {
      case 'adaptiveCard/action': {
        const action = isRecord(value) ? value.action : undefined;
        if (!isRecord(action) || action.type !== 'Action.Execute') return invokeMessage(t(this.localeOf(a), 'error.bad_payload'));
        break;
      }
      case 'application/search':
        if (!isRecord(value)) return unsupported();
        await this.remember(ctx, false);
        return { status: 200, body: { statusCode: 200, type: SEARCH_RESPONSE, value: { results: [] } } };
      case 'fileConsent/invoke':
        if (!isRecord(value) || (value.action !== 'accept' && value.action !== 'decline')) return unsupported();
        break;
      default:
        return unsupported();
    }
    return super.onInvokeActivity(ctx);
  }

  /**
   * A card button (Action.Execute): the verb is the shared action id, `data.ref` names `step@rollout`, and
   * the owner picker sends `owner:<step>`. The invoke answers with the updated card (Teams shows it at once)
   * or, for a refusal or a notice, with a message only the presser sees. A check answers at once with the
   * card marked "checking…" and updates the card for everyone when the run is done.
   */
  protected override async onAdaptiveCardInvoke(ctx: TurnContext, value: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    await this.remember(ctx, false);
    const layer = this.layer;
    const a = ctx.activity;
    const locale = this.localeOf(a);
    const verb = value.action?.verb ?? '';
    const data = (value.action?.data ?? {}) as Record<string, unknown>;
    const target = decodeStepRef(typeof data.ref === 'string' ? data.ref : undefined);
    const asMessage = (text: string): AdaptiveCardInvokeResponse => ({
      statusCode: 200,
      type: 'application/vnd.microsoft.activity.message',
      value: text as unknown as Record<string, unknown>,
    });
    if (layer && verb === ACTIONS.setupSubmit) return this.setupSubmit(ctx, layer, data);
    if (!layer || !target || !(Object.values(ACTIONS) as string[]).includes(verb)) return asMessage(t(locale, 'error.bad_payload'));
    const notices: Rich[][] = [];
    let tone: Parameters<typeof noticeText>[0] = 'info';
    const rctx = this.renderContext(a);
    // Once the invoke is answered, botbuilder has revoked `ctx`: what the layer says after that goes out
    // proactively (replyAfterAnswer), never through the turn.
    let answered = false;
    const thread = a.conversation?.id ?? '';
    const requester = await this.requester(ctx, async (reply) => {
      if (answered) return this.replyAfterAnswer(layer, thread, requester.actor.user, reply, rctx);
      if (reply.kind === 'notice') {
        await this.learnNames(reply.lines);
        notices.push(reply.lines);
        tone = reply.tone;
      } else if (reply.kind === 'check_report') {
        await ctx.sendActivity(renderCheckReport(reply.view, rctx));
      }
    });
    const ownerInput = data[`owner:${target.stepId}`];
    // A static choice is `teams:<aadObjectId>`; a person found by the people search is a bare AAD object id.
    const owner = typeof ownerInput === 'string' && ownerInput ? (AAD_ID.test(ownerInput) ? teamsUserKey(ownerInput) : ownerInput) : undefined;
    const action = { action: verb as ActionId, ...target, ...(owner ? { owner } : {}), conversation: this.conversationOf(a) };
    if (verb === ACTIONS.runCheck) {
      // Teams gives an invoke 15 s; a run may take longer. Answer with "checking…", finish in the background:
      // the report goes into the card's thread, notices to the presser's 1:1 chat.
      answered = true;
      this.inBackground(layer.interactions.cardAction(requester, action).catch((err) => this.deps.logger.warn({ err }, 'teams check run failed')));
      return this.cardResponse(layer, target.rolloutId, a, true);
    }
    // Once the layer has answered the presser and only the card update for everyone is left (a stored change;
    // a refused owner change snapping back), the invoke is answered: that update goes through the
    // conversation's paced outbound queue (up to ~1 s under Teams' per-conversation limits,
    // src/teams/outbound.ts) and goes on after the answer. A reply after that (the update failed) reaches the
    // presser in their 1:1 chat.
    let cardOnly!: () => void;
    const settled = new Promise<'card-only'>((resolve) => (cardOnly = () => resolve('card-only')));
    requester.settled = (outcome) => {
      if (outcome?.cardOnly) cardOnly();
    };
    const work = layer.interactions.cardAction(requester, action);
    const early = (await Promise.race([work.then(() => 'done' as const), settled])) === 'card-only';
    if (early) {
      answered = true;
      this.inBackground(
        work.catch((err: unknown) => this.deps.logger.warn({ err, rolloutId: target.rolloutId }, 'teams card update after an answered invoke failed')),
      );
    }
    if (notices.length) return asMessage(notices.map((l) => noticeText(tone, l, rctx)).join('\n\n'));
    return this.cardResponse(layer, target.rolloutId, a, false);
  }

  /**
   * What the layer says about a press after its invoke was answered (the turn is over, botbuilder has revoked
   * it), as proactive messages: a notice (with its tone) reaches the presser alone, in their 1:1 chat (Teams'
   * stand-in for a message only they see), or the card's thread where bwprep cannot reach that chat; the
   * Check button's report goes into the card's thread, like the answer to `@bwprep check` typed there.
   */
  private async replyAfterAnswer(layer: TeamsLayer, thread: string, presser: string, reply: Reply, rctx: RenderContext): Promise<void> {
    // A check report goes into the card's thread, as the answer to `@bwprep check` typed there: it names the
    // rollout by where it is, and its advice (`@bwprep export md`) works there, not in a 1:1 chat.
    if (reply.kind === 'check_report') {
      if (layer.post) await layer.post(thread, renderCheckReport(reply.view, rctx));
      else this.deps.logger.warn({ kind: reply.kind }, 'teams: a check report after an answered press was not delivered');
      return;
    }
    if (reply.kind !== 'notice') {
      this.deps.logger.warn({ kind: reply.kind }, 'teams: a reply after an answered press was not delivered');
      return;
    }
    await this.learnNames(reply.lines);
    const sent = layer.tell
      ? await layer.tell(presser, { kind: 'notice', tone: reply.tone, lines: reply.lines }).catch((err: unknown) => {
          this.deps.logger.info({ err, user: presser }, "teams: could not reach the presser's 1:1 chat; answering in the card's thread");
          return false;
        })
      : false;
    if (sent) return;
    if (!layer.post) {
      this.deps.logger.warn({ kind: reply.kind, user: presser }, 'teams: a notice after an answered press reached nobody');
      return;
    }
    await layer.post(thread, renderNotice(reply.tone, reply.lines, rctx));
  }

  /**
   * The setup form submitted (verb `setup_submit`, `data.rolloutId` plus every input's value). Invalid
   * fields: the invoke answers with the form again, each error under its field, the secret input empty;
   * nothing is saved. Valid: the settings are saved, and the form is replaced by the confirmation, in the
   * invoke answer and (best effort) for everyone in the conversation.
   */
  private async setupSubmit(ctx: TurnContext, layer: TeamsLayer, data: Record<string, unknown>): Promise<AdaptiveCardInvokeResponse> {
    const a = ctx.activity;
    const rctx = this.renderContext(a);
    const lines: Rich[] = [];
    // Set inside the reply callback; the cast keeps TypeScript from narrowing it to 'ok'.
    let tone = 'ok' as Parameters<typeof noticeText>[0];
    const requester = await this.requester(ctx, async (reply) => {
      if (reply.kind !== 'notice') return;
      await this.learnNames(reply.lines);
      lines.push(...reply.lines);
      tone = reply.tone;
    });
    const rolloutId = typeof data.rolloutId === 'string' ? data.rolloutId : '';
    const rollout = await layer.interactions.service.get(rolloutId);
    const locale = layer.interactions.privateLocale(requester, rollout);
    const outcome = await layer.interactions.submitSetup(requester, rolloutId, readSetupData(data, rollout?.settings.admins ?? []));
    if (!rollout)
      return {
        statusCode: 200,
        type: 'application/vnd.microsoft.activity.message',
        value: t(locale, 'error.unknown_rollout') as unknown as Record<string, unknown>,
      };
    const formAgain = async (o: { errors?: Partial<Record<SetupField, Rich>>; banner?: string }): Promise<AdaptiveCardInvokeResponse> => {
      const form = {
        rolloutId,
        settings: rollout.settings,
        locale,
        timezone: rollout.settings.timezone,
        encryptionAvailable: layer.interactions.encryptionAvailable,
      };
      const people = await this.people(a.conversation?.id ?? '');
      const card = setupCard(form, locale, { ...rctx, people, values: resubmittedValues(data), ...o });
      return { statusCode: 200, type: ADAPTIVE_CARD, value: card.content as Record<string, unknown> };
    };
    if (!outcome.ok) {
      for (const e of Object.values(outcome.errors)) if (e) await this.learnNames([e]);
      return formAgain({ errors: outcome.errors });
    }
    await outcome.save();
    // Saving failed (the layer said why, with a log reference): the form again, so nothing typed is lost but the secret.
    if (tone === 'warn' || tone === 'fail') return formAgain({ banner: noticeText(tone, lines, rctx) });
    const done = setupDoneCard(locale, lines, rctx);
    // The form was a message in the conversation: replace it for everyone, so no one fills in a stale form.
    if (a.replyToId) {
      await ctx
        .updateActivity({ type: 'message', id: a.replyToId, attachments: [done] })
        .catch((err: unknown) => this.deps.logger.info({ err, conversation: a.conversation?.id }, 'teams: the setup form could not be replaced'));
    }
    return { statusCode: 200, type: ADAPTIVE_CARD, value: done.content as Record<string, unknown> };
  }

  /**
   * `export` in Teams. A personal chat gets a FileConsentCard: on accept, Teams hands bwprep an upload URL in
   * the user's OneDrive (invoke `fileConsent/invoke`), bwprep uploads the file and posts it as a file
   * message. Teams lets a bot send files only in a personal chat, so a channel or group chat gets the
   * Markdown report as a message when it fits, and otherwise an explanation.
   * (learn.microsoft.com/microsoftteams/platform/bots/how-to/bots-filesv4)
   */
  private async sendFile(ctx: TurnContext, file: ExportFile, locale: Locale, rctx: RenderContext): Promise<void> {
    const bytes = Buffer.byteLength(file.content, 'utf8');
    if (rctx.personal) {
      const id = randomUUID();
      await this.deps.kv.set(`teams:export:${id}`, { filename: file.filename, content: file.content }, EXPORT_OFFER_MS);
      await ctx.sendActivity({
        type: 'message',
        attachments: [
          {
            contentType: FILE_CONSENT_CARD,
            name: file.filename,
            content: { description: file.comment, sizeInBytes: bytes, acceptContext: { exportId: id }, declineContext: { exportId: id } },
          },
        ],
      });
      return;
    }
    if (file.format !== 'md') {
      await ctx.sendActivity(renderNotice('info', [tr(locale, 'teams.export_channel_format', { format: file.format.toUpperCase() })], rctx));
      return;
    }
    if (bytes > MAX_REPORT_MESSAGE_BYTES) {
      await ctx.sendActivity(renderNotice('info', [tr(locale, 'teams.export_too_large')], rctx));
      return;
    }
    await ctx.sendActivity({ type: 'message', textFormat: 'markdown', text: `**${escapeMarkdown(file.comment)}**\n\n${file.content}` });
  }

  /** The user accepted a file offer: upload to the URL Teams gave (their OneDrive), then post the file. */
  protected override async handleTeamsFileConsentAccept(ctx: TurnContext, response: FileConsentCardResponse): Promise<void> {
    const locale = this.localeOf(ctx.activity);
    const rctx = this.renderContext(ctx.activity);
    const id = (response.context as { exportId?: unknown } | undefined)?.exportId;
    const stored = typeof id === 'string' ? await this.deps.kv.get<{ filename: string; content: string }>(`teams:export:${id}`) : undefined;
    const info = response.uploadInfo;
    if (!stored || !info?.uploadUrl || !/^https?:\/\//.test(info.uploadUrl)) {
      await ctx.sendActivity(renderNotice('info', [tr(locale, 'teams.export_expired')], rctx));
      return;
    }
    const body = Buffer.from(stored.content, 'utf8');
    try {
      // One request for the whole file (OneDrive upload session; files up to 4 MB need no chunks).
      const res = await fetch(info.uploadUrl, { method: 'PUT', headers: { 'content-range': `bytes 0-${body.length - 1}/${body.length}` }, body });
      if (!res.ok) throw new Error(`upload answered ${res.status}`);
    } catch (err) {
      // The upload URL is a capability: it stays out of the log.
      this.deps.logger.warn({ err: (err as Error).message, conversation: ctx.activity.conversation?.id }, 'teams: export upload failed');
      await ctx.sendActivity(renderNotice('warn', [tr(locale, 'teams.export_upload_failed')], rctx));
      return;
    }
    await this.deps.kv.delete(`teams:export:${id as string}`);
    await ctx.sendActivity({
      type: 'message',
      attachments: [
        {
          contentType: FILE_DOWNLOAD_INFO,
          name: info.name ?? stored.filename,
          contentUrl: info.contentUrl,
          content: { uniqueId: info.uniqueId, fileType: info.fileType },
        },
      ],
    });
  }

  /** The user declined a file offer: forget the file. */
  protected override async handleTeamsFileConsentDecline(ctx: TurnContext, response: FileConsentCardResponse): Promise<void> {
    const id = (response.context as { exportId?: unknown } | undefined)?.exportId;
    if (typeof id === 'string') await this.deps.kv.delete(`teams:export:${id}`);
    await ctx.sendActivity(renderNotice('info', [tr(this.localeOf(ctx.activity), 'teams.export_declined')], this.renderContext(ctx.activity)));
  }

  /** The conversation's members bwprep knows, as static choices for people pickers. */
  private async people(conversationId: string): Promise<{ key: string; name: string }[]> {
    const list = await this.deps.directory.known(baseConversationId(conversationId));
    return list.map((u) => ({ key: `teams:${u.aadObjectId}`, name: u.name ?? u.aadObjectId }));
  }

  private async cardResponse(layer: TeamsLayer, rolloutId: string, a: Partial<Activity>, checking: boolean): Promise<AdaptiveCardInvokeResponse> {
    const rollout = await layer.interactions.service.get(rolloutId);
    if (!rollout)
      return {
        statusCode: 200,
        type: 'application/vnd.microsoft.activity.message',
        value: t(this.localeOf(a), 'error.unknown_rollout') as unknown as Record<string, unknown>,
      };
    const card = await layer.cardFor(baseConversationId(a.conversation?.id ?? ''), layer.interactions.cards.view(rollout), checking);
    return { statusCode: 200, type: ADAPTIVE_CARD, value: card.content as Record<string, unknown> };
  }

  /** Names of people bwprep knows in Teams, for rendering user spans (an id means nothing to a reader). */
  private readonly names = new Map<string, string>();

  private renderContext(a: Partial<Activity>): RenderContext {
    return { personal: a.conversation?.conversationType === 'personal', userName: (key) => this.names.get(key) };
  }

  /** Looks up the names of the Teams people in some lines before they are rendered. */
  private async learnNames(lines: Rich[]): Promise<void> {
    for (const line of lines)
      for (const x of line) {
        if (typeof x !== 'object' || !('user' in x) || !x.user.startsWith('teams:') || this.names.has(x.user)) continue;
        const u = await this.deps.directory.get(x.user.slice('teams:'.length));
        if (u?.name) this.names.set(x.user, u.name);
      }
  }

  /** The bwprep conversation of an activity: tenant as workspace, the channel (not the thread) as channel. */
  private conversationOf(a: Partial<Activity>): BwConversation {
    const cd = a.channelData as { channel?: { name?: string }; team?: { name?: string } } | undefined;
    const name = cd?.channel?.name ?? a.conversation?.name ?? cd?.team?.name;
    return { platform: 'teams', workspace: activityTenant(a) ?? 'teams', channel: baseConversationId(a.conversation?.id ?? ''), ...(name ? { name } : {}) };
  }

  /** The person behind an activity, with what Teams says of their language and time zone. */
  private async requester(ctx: TurnContext, reply: (r: Reply) => Promise<void>): Promise<Requester> {
    const a = ctx.activity;
    const aad = a.from?.aadObjectId ?? a.from?.id ?? 'unknown';
    // What the roster said of the person (remember() reads it at most daily): another tenant, or a guest.
    const known = a.from?.aadObjectId ? await this.deps.directory.get(a.from.aadObjectId) : undefined;
    const external = known ? isExternalTeamsUser(known, activityTenant(a)) : false;
    const actor: Actor = { user: teamsUserKey(aad), surface: 'teams', ...(a.from?.name ? { name: a.from.name } : {}), ...(external ? { external: true } : {}) };
    // The sender's name as Teams gives it, for the replies that mention them.
    if (a.from?.name) this.names.set(actor.user, a.from.name);
    const locale = toLocale(activityLocale(a));
    const tz = activityTimezone(a);
    return {
      actor,
      scope: { platform: 'teams', workspace: activityTenant(a) ?? 'teams' },
      ...(locale ? { locale } : {}),
      ...(tz ? { tz } : {}),
      reply,
    };
  }

  /**
   * The people mentioned in a message (besides the bot), as `<at>Name</at>` token → `teams:<aadObjectId>`.
   * Teams' mention entities carry the channel account id (`29:…`); the AAD object id comes from the
   * entity when present, else from bwprep's directory, else from the conversation roster.
   */
  private async mentionMap(ctx: TurnContext): Promise<Map<string, string>> {
    const activity = ctx.activity;
    const map = new Map<string, string>();
    for (const m of TurnContext.getMentions(activity)) {
      const mentioned = m.mentioned as { id?: string; aadObjectId?: string } | undefined;
      if (!m.text || !mentioned?.id || mentioned.id === activity.recipient?.id) continue;
      let aad = mentioned.aadObjectId;
      if (!aad) {
        try {
          const member = await TeamsInfo.getMember(ctx, mentioned.id);
          aad = member.aadObjectId;
          // Remember the person, so a reminder can reach an owner who never wrote to bwprep.
          if (aad)
            await this.deps.directory.recordMember({
              id: member.id,
              aadObjectId: aad,
              ...(member.name ? { name: member.name } : {}),
              ...(member.tenantId ? { tenantId: member.tenantId } : {}),
              ...(member.userRole ? { userRole: member.userRole } : {}),
              serviceUrl: activity.serviceUrl,
            });
        } catch (err) {
          this.deps.logger.debug({ err, conversation: activity.conversation?.id }, 'teams mention not in the roster');
        }
      }
      if (aad) {
        map.set(m.text.trim(), teamsUserKey(aad));
        map.set(m.text.replace(/<\/?at>/g, '').trim(), teamsUserKey(aad));
        if (activity.conversation?.id) await this.deps.directory.addMember(activity.conversation.id, aad);
      }
    }
    return map;
  }

  private async answer(ctx: TurnContext): Promise<void> {
    const a = ctx.activity;
    const locale = this.localeOf(a);
    // In a channel or group chat the text starts with the bot's mention: `<at>bwprep</at> help`.
    // botbuilder's removeRecipientMention reads `text` unchecked (a mention without text was a TypeError, found by fuzzing).
    const raw = typeof a.text === 'string' ? (TurnContext.removeRecipientMention(a) ?? a.text) : '';
    const text = raw.replace(/&nbsp;/g, ' ').trim();
    // A card button or an empty message (an attachment only) is not a command.
    if (!text && a.value !== undefined) return;
    const mentions = await this.mentionMap(ctx);
    const rctx = this.renderContext(a);
    const layer = this.layer;
    if (!layer) {
      await ctx.sendActivity(renderNotice('info', [tr(locale, 'teams.not_yet', { command: text.split(/\s+/)[0] ?? '' })], rctx));
      return;
    }
    const requester: Requester = await this.requester(ctx, async (reply) => {
      switch (reply.kind) {
        case 'notice':
          await this.learnNames(reply.lines);
          // A refusal of a command typed in a channel or group chat reaches the person alone, in their 1:1 chat
          // with the bot, where Teams lets bwprep reach them; the conversation only sees where to look.
          if (reply.tone === 'refused' && !rctx.personal && layer.tell) {
            const sent = await layer.tell(requester.actor.user, { kind: 'notice', lines: reply.lines }).catch((err: unknown) => {
              this.deps.logger.info({ err }, 'teams: could not answer privately; answering in the conversation');
              return false;
            });
            if (sent) {
              await ctx.sendActivity(renderNotice('info', [tr(locale, 'teams.answered_privately', { user: requester.actor.user })], rctx));
              return;
            }
          }
          await ctx.sendActivity(renderNotice(reply.tone, reply.lines, rctx));
          return;
        case 'help':
          await ctx.sendActivity(renderHelp(reply.view, rctx));
          return;
        case 'mine':
          await ctx.sendActivity(renderMine(reply.view, rctx));
          return;
        case 'check_report':
          await ctx.sendActivity(renderCheckReport(reply.view, rctx));
          return;
        case 'setup':
          await ctx.sendActivity({
            type: 'message',
            attachments: [setupCard(reply.form, reply.form.locale, { ...rctx, people: await this.people(a.conversation?.id ?? '') })],
          });
          return;
        case 'file':
          await this.sendFile(ctx, reply.file, locale, rctx);
          return;
      }
    });
    // A mention bwprep could not resolve reads as a plain @name, so the refusal names it as the user wrote it.
    const typed = text.replace(/<at>(.*?)<\/at>/g, (m: string, name: string) => (mentions.has(m) ? m : `@${name}`));
    await layer.interactions.command(this.conversationOf(a), requester, typed, (token) => mentions.get(token.trim()));
  }
}
