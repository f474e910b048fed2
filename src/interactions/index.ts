import { executeCommand } from '../commands/execute';
import { type Command, commandName, parseCommand } from '../commands/parse';
import {
  type ConversationRef,
  conversationKey,
  conversationsOf,
  hasConversation,
  type Locale,
  type Message,
  type Rollout,
  type RolloutSettings,
  type UserKey,
} from '../core/checklist/model';
import { randomInt } from 'node:crypto';
import type { ChangeResult, ChecklistService, RolloutDefaults } from '../core/checklist/service';
import { type SetupField, type SetupInput, validateSetup } from '../core/checklist/settings';
import { snoozeDate } from '../core/digest/reminders';
import { BwprepError, isBwprepError } from '../core/errors';
import type { Clock, Store } from '../core/ports';
import type { VerificationService } from '../core/verification/service';
import { renderRich, t, tr } from '../i18n';
import type { Metrics } from '../metrics';
import { encryptSecret } from '../store/crypto';
import { ACTIONS, type ActionId } from '../views/actions';
import { buildHomeView, type HomeView } from '../views/home';
import { buildReport, reportCsv, reportJson, reportMarkdown } from '../views/report';
import type { Rich } from '../views/rich';
import { buildHelpView, buildMineView, type MineView } from '../views/text';
import { LivingCards } from './cards';
import { CheckRunner } from './checks';
import { describeError, type ErrorLogger } from './errors';
import type { Platforms } from './platforms';
import type { Requester } from './ports';

export { LivingCards } from './cards';
export { CheckRunner } from './checks';
export { CardGoneError } from './errors';
export { Platforms } from './platforms';
export type * from './ports';
/** Bitwarden policy types a setup form offers for step 2a (each has a name in both locales: `bw.policy.<n>`). */
export { KNOWN_POLICY_TYPES as SETUP_POLICIES } from '../core/checklist/model';

/** How long a link code may be used. */
const LINK_CODE_TTL_MS = 15 * 60_000;

/** Commands a direct message can give when it names the rollout's conversation (one step, one's own steps, the report to oneself). */
const DIRECT_COMMANDS = new Set<string>(['mine', 'assign', 'unassign', 'done', 'reopen', 'skip', 'due', 'export']);

/** Audit entries the export includes (newest). */
const AUDIT_IN_REPORT = 200;

/** The digest preview (`digest` command), provided by the scheduler. */
export interface DigestPreviewer {
  previewDigest(rolloutId: string, actor: Requester['actor']): Promise<unknown>;
}

export interface InteractionsDeps {
  service: ChecklistService;
  store: Store;
  clock: Clock;
  platforms: Platforms;
  logger: ErrorLogger & { child?(bindings: object): ErrorLogger };
  metrics?: Metrics;
  defaults: RolloutDefaults;
  verification?: VerificationService;
  /** Key for per-rollout secrets (BWPREP_ENCRYPTION_KEY); without it setup refuses API keys. */
  encryptionKey?: Buffer;
  digest?: DigestPreviewer;
  /** The shortest time between two updates of one rollout's cards, ms (BWPREP_CARD_UPDATE_INTERVAL_MS); default 0. */
  cardUpdateIntervalMs?: number;
}

/** A card click or DM button, decoded by the platform: which rollout and step, and what the person chose. */
export interface CardAction {
  action: ActionId;
  rolloutId: string;
  stepId: string;
  /** `assign_owner`: the person picked in the owner picker. */
  owner?: UserKey;
  /**
   * The conversation whose card was clicked, where the platform knows it (Teams invokes): the rollout must be
   * one of that conversation's, so a button cannot be pointed at another conversation's rollout.
   */
  conversation?: ConversationRef;
}

export type SetupOutcome = { ok: false; errors: Partial<Record<SetupField, Rich>> } | { ok: true; save(): Promise<void> };

/**
 * The application layer: every user journey, for every chat surface. Platforms translate their wire format
 * into these calls and render the view models they get back; they hold no flow of their own. Each public
 * method is an error boundary: it never throws for a user's mistake or a platform's refusal, it replies.
 *
 * Language rule (README "Languages"): what everyone in a conversation sees is in the rollout's language;
 * what one person sees (replies, help, mine, setup, DMs, App Home) is in that person's language where the
 * platform tells it, else the rollout's.
 */
export class Interactions {
  readonly cards: LivingCards;
  readonly checks?: CheckRunner;

  constructor(private readonly deps: InteractionsDeps) {
    this.cards = new LivingCards({
      service: deps.service,
      platforms: deps.platforms,
      clock: deps.clock,
      logger: deps.logger,
      ...(deps.cardUpdateIntervalMs !== undefined ? { minIntervalMs: deps.cardUpdateIntervalMs } : {}),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    });
    if (deps.verification) {
      this.checks = new CheckRunner({
        service: deps.service,
        verification: deps.verification,
        leases: deps.store.leases,
        cards: this.cards,
        platforms: deps.platforms,
        logger: deps.logger,
        ...(deps.metrics ? { metrics: deps.metrics } : {}),
      });
    }
  }

  /** The digest preview (`digest`), once a scheduler exists. */
  setDigest(digest: DigestPreviewer): void {
    this.deps.digest = digest;
  }

  get service(): ChecklistService {
    return this.deps.service;
  }

  /** BWPREP_ENCRYPTION_KEY is set, so setup can store a rollout's own API key (forms say so in their hint). */
  get encryptionAvailable(): boolean {
    return Boolean(this.deps.encryptionKey);
  }

  /** The language of a reply only `requester` sees. */
  privateLocale(requester: Pick<Requester, 'locale'>, rollout?: Rollout): Locale {
    return requester.locale ?? rollout?.settings.locale ?? this.deps.defaults.locale;
  }

  /**
   * The rollout of a conversation: the one it is linked to (a kv pointer `conversation:<key>`, trusted only
   * while that rollout still lists the conversation), else its own, created with the defaults on first use.
   */
  async rolloutFor(conversation: ConversationRef, requester: Requester): Promise<Rollout> {
    const linked = await this.linkedRollout(conversation);
    if (linked) return linked;
    // Whoever starts a rollout becomes its admin: not a person of another organization (a Slack Connect
    // partner, a Teams guest), who takes part once someone of the installing organization has started it.
    // A global admin (BWPREP_ADMINS) is trusted wherever they come from.
    const trusted = !requester.actor.external || this.deps.service.globalAdmins.includes(requester.actor.user);
    if (!trusted && !(await this.deps.service.get(conversationKey(conversation))))
      throw new BwprepError('forbidden', { key: 'error.forbidden.start_external' });
    return this.deps.service.ensureRollout(conversation, requester.actor);
  }

  /** The rollout this conversation follows or has of its own, without creating one. */
  private async existingRollout(conversation: ConversationRef): Promise<Rollout | undefined> {
    return (await this.linkedRollout(conversation)) ?? (await this.deps.service.get(conversationKey(conversation)));
  }

  private async linkedRollout(conversation: ConversationRef): Promise<Rollout | undefined> {
    const id = await this.deps.store.kv.get<string>(`conversation:${conversationKey(conversation)}`);
    if (!id) return undefined;
    const r = await this.deps.service.get(id);
    return r && hasConversation(r, conversation) ? r : undefined;
  }

  /**
   * A command typed in a conversation (`/bwprep done 2a`, `@bwprep done 2a`, `done 2a` in the console).
   * `resolveUser` turns the platform's mention syntax into a UserKey.
   */
  async command(conversation: ConversationRef, requester: Requester, text: string, resolveUser: (token: string) => UserKey | undefined): Promise<void> {
    const end = this.deps.metrics?.handlerSeconds.startTimer({ kind: 'command' });
    // Stryker disable next-line StringLiteral: equivalent — both branches below assign `name` before anything can throw
    let name = 'unknown';
    let rollout: Rollout | undefined;
    try {
      let cmd: Command | undefined;
      let malformed: unknown;
      try {
        cmd = parseCommand(text, { resolveUser });
        name = cmd.name;
      } catch (e) {
        malformed = e;
        // The command the text meant, for its usage line (the grammar's own word lookup).
        // Stryker disable next-line Regex: equivalent — `\s*` matches at 0 anyway, so the first word is found with or without `^`
        name = commandName(/^\s*(\S+)/.exec(text)?.[1] ?? '') ?? 'unknown';
      }
      if (malformed || !cmd) {
        // A mistyped command starts no rollout (which would then keep this conversation from following
        // another with `link`); an existing one gives the reply's language.
        rollout = await this.existingRollout(conversation);
        throw malformed;
      }
      if (cmd.name === 'link' && cmd.code) {
        // Binding to a rollout elsewhere must not first create one of this conversation's own.
        rollout = await this.existingRollout(conversation);
        await this.bind(conversation, requester, cmd.code, rollout);
      } else if (cmd.name === 'help' && requester.actor.external && !(await this.existingRollout(conversation))) {
        // Help needs no rollout: an external person learns the commands without being asked to find someone.
        await requester.reply({ kind: 'help', view: buildHelpView(this.privateLocale(requester)) });
      } else if (cmd.name === 'unlink' && !(await this.existingRollout(conversation))) {
        // Nothing to unlink, and no reason to start a rollout here.
        throw new BwprepError('bad_usage', { key: 'error.not_linked' });
      } else {
        rollout = await this.rolloutFor(conversation, requester);
        await this.runCommand(rollout, cmd, requester, conversation);
      }
      this.deps.metrics?.commands.inc({ platform: requester.scope.platform, command: name, outcome: 'ok' });
    } catch (e) {
      this.deps.metrics?.commands.inc({ platform: requester.scope.platform, command: name, outcome: 'error' });
      // The command's usage line shows for input errors (describeError); an unknown command carries its own.
      await this.fail(requester, rollout, e, { command: name, conversation: conversation.channel }, { key: `usage.${name}` });
    } finally {
      end?.();
    }
  }

  private async runCommand(rollout: Rollout, cmd: Command, requester: Requester, conversation: ConversationRef): Promise<void> {
    const locale = this.privateLocale(requester, rollout);
    if (cmd.name === 'assign') await this.ensureUser(cmd.user);
    const reply = await executeCommand(this.deps.service, rollout, cmd, requester.actor);
    switch (reply.kind) {
      case 'card':
        requester.settled?.();
        await this.cards.post(rollout.id, requester.actor, conversation);
        return;
      case 'help':
        await requester.reply({ kind: 'help', view: buildHelpView(locale) });
        return;
      case 'mine':
        await requester.reply({ kind: 'mine', view: buildMineView(this.deps.service.templateFor(reply.rollout), reply.rollout, requester.actor.user, locale) });
        return;
      case 'notice': {
        // A language switch answers in the new language: "From now on bwprep speaks English" shows it.
        const noticeLocale = cmd.name === 'lang' ? reply.rollout.settings.locale : locale;
        await this.noticeAfterChange(requester, reply, noticeLocale);
        return;
      }
      case 'delegate':
        switch (reply.command.name) {
          case 'check':
            if (!this.checks) throw new BwprepError('not_available', { key: 'error.not_available', vars: { command: 'check' } });
            await this.checks.run(rollout, requester, reply.command.step ? this.deps.service.step(reply.command.step).id : undefined);
            return;
          case 'digest':
            if (!this.deps.digest) throw new BwprepError('not_available', { key: 'error.not_available', vars: { command: 'digest' } });
            await requester.reply({ kind: 'notice', tone: 'wait', lines: [tr(locale, 'digest.preview_started')] });
            await this.deps.digest.previewDigest(rollout.id, requester.actor);
            return;
          case 'setup':
            await this.openSetup(rollout, requester);
            return;
          case 'export':
            await this.export(rollout, requester, reply.command.format);
            return;
          case 'link':
            await this.linkCode(rollout, requester);
            return;
          case 'unlink':
            await this.unbind(rollout, conversation, requester);
            return;
        }
    }
  }

  /** A card button, picker or DM button. */
  async cardAction(requester: Requester, a: CardAction): Promise<void> {
    const end = this.deps.metrics?.handlerSeconds.startTimer({ kind: 'action' });
    let rollout: Rollout | undefined;
    try {
      rollout = await this.target(requester, a);
      const locale = this.privateLocale(requester, rollout);
      const actor = requester.actor;
      let result: ChangeResult | undefined;
      switch (a.action) {
        case ACTIONS.markDone:
          result = await this.deps.service.markDone(rollout.id, a.stepId, actor);
          break;
        case ACTIONS.reopenStep:
          result = await this.deps.service.reopen(rollout.id, a.stepId, actor);
          break;
        case ACTIONS.assignOwner:
          if (!a.owner) return;
          await this.ensureUser(a.owner);
          result = await this.deps.service.assign(rollout.id, a.stepId, a.owner, actor);
          break;
        case ACTIONS.runCheck:
          if (!this.checks) throw new BwprepError('not_available', { key: 'error.not_available', vars: { command: 'check' } });
          await this.checks.run(rollout, requester, a.stepId);
          break;
        case ACTIONS.snoozeStep: {
          const snoozed = await this.deps.service.snooze(rollout.id, a.stepId, snoozeDate(this.deps.clock.now(), rollout), actor);
          // The card does not show snoozes, so only the owner hears about it.
          await requester.reply({ kind: 'notice', tone: 'snooze', lines: [renderRich(locale, snoozed.notice)] });
          break;
        }
        default:
          throw new BwprepError('bad_usage', { key: 'error.bad_payload' });
      }
      if (result) {
        requester.settled?.({ cardOnly: result.changed });
        if (!result.changed) await requester.reply({ kind: 'notice', tone: 'info', lines: [renderRich(locale, result.notice)] });
        else if (!(await this.cards.refreshAfterChange(rollout.id, result.rollout))) {
          await requester.reply({ kind: 'notice', tone: 'ok', lines: [renderRich(locale, result.notice), tr(locale, 'error.card_not_updated')] });
        }
      }
      this.deps.metrics?.actions.inc({ platform: requester.scope.platform, action: a.action, outcome: 'ok' });
    } catch (e) {
      this.deps.metrics?.actions.inc({ platform: requester.scope.platform, action: a.action, outcome: 'error' });
      // The payload's rollout id too: a click refused before the rollout was read is still traceable.
      await this.fail(requester, rollout, e, { action: a.action, step: a.stepId, rolloutId: a.rolloutId });
      // A refused picker change must snap back to the real owner on the card: the person has their answer,
      // only that card update is left.
      if (a.action === ACTIONS.assignOwner && rollout) {
        requester.settled?.({ cardOnly: true });
        const rolloutId = rollout.id;
        await this.cards.refresh(rolloutId).catch((err) => this.deps.logger.warn({ err, rolloutId }, 'owner change refused; the card could not be reset'));
      }
    } finally {
      end?.();
    }
  }

  /** The rollout a click is about; a payload can only act on rollouts of the workspace it came from. */
  private async target(requester: Requester, a: Pick<CardAction, 'rolloutId' | 'stepId' | 'conversation'>): Promise<Rollout> {
    const rollout = await this.deps.service.get(a.rolloutId);
    const inScope =
      rollout && conversationsOf(rollout).some(({ conversation: c }) => c.platform === requester.scope.platform && c.workspace === requester.scope.workspace);
    if (!rollout || !inScope || (a.conversation && !hasConversation(rollout, a.conversation)))
      throw new BwprepError('bad_usage', { key: 'error.unknown_rollout' });
    this.deps.service.step(a.stepId);
    return rollout;
  }

  /** `assign`: the person must be a real, active account of the platform (issue: deactivated vs unknown). */
  private async ensureUser(user: UserKey): Promise<void> {
    const platform = this.deps.platforms.forUser(user);
    // Not a person of any platform bwprep serves (a picker value that is no user key): refuse, never store it.
    if (!platform) throw new BwprepError('bad_user', { key: 'error.bad_user', vars: { value: user } }, { usage: { key: 'usage.assign' } });
    const profile = await platform.directory.profile(user);
    if (profile.exists) return;
    const key = profile.missing === 'deactivated' ? 'error.user_deactivated' : 'error.unknown_user';
    throw new BwprepError('bad_user', { key, vars: { user } }, { usage: { key: 'usage.assign' } });
  }

  private async noticeAfterChange(requester: Requester, reply: { rollout: Rollout; changed: boolean; notice: Message }, locale: Locale): Promise<void> {
    requester.settled?.();
    const cardOk = !reply.changed || (await this.cards.refreshAfterChange(reply.rollout.id, reply.rollout));
    const lines: Rich[] = [renderRich(locale, reply.notice)];
    if (!cardOk) lines.push(tr(locale, 'error.card_not_updated'));
    await requester.reply({ kind: 'notice', tone: reply.changed ? 'ok' : 'info', lines });
  }

  // ---- setup --------------------------------------------------------------------------------------

  private async openSetup(rollout: Rollout, requester: Requester): Promise<void> {
    if (!this.deps.service.isAdmin(requester.actor, rollout))
      throw new BwprepError('forbidden', { key: 'error.forbidden.settings', vars: { admins: this.deps.service.adminList(rollout) } });
    const timezone = rollout.settings.setupAt ? rollout.settings.timezone : (requester.tz ?? rollout.settings.timezone);
    await requester.reply({
      kind: 'setup',
      form: {
        rolloutId: rollout.id,
        settings: rollout.settings,
        locale: this.privateLocale(requester, rollout),
        timezone,
        encryptionAvailable: Boolean(this.deps.encryptionKey),
      },
    });
  }

  /**
   * A submitted setup form: every invalid field gets its own message and nothing is saved; otherwise
   * `save()` encrypts a new API key (never echoed or logged), saves the settings and re-plans due dates in
   * one atomic write, refreshes the card and tells the admin. Split in two so a platform can answer its
   * form (Slack's 3-second view submission) before the slower save.
   */
  async submitSetup(requester: Requester, rolloutId: string, input: SetupInput): Promise<SetupOutcome> {
    const rollout = await this.deps.service.get(rolloutId);
    const locale = this.privateLocale(requester, rollout);
    if (!rollout) return { ok: false, errors: { locale: tr(locale, 'error.unknown_rollout') } };
    if (!this.deps.service.isAdmin(requester.actor, rollout))
      return { ok: false, errors: { admins: tr(locale, 'setup.error.forbidden', { admins: this.deps.service.adminList(rollout) }) } };
    const now = this.deps.clock.now();
    // A platform's form can only name people of its own platform: admins from another linked platform stay.
    const others = rollout.settings.admins.filter((a) => !a.startsWith(`${requester.scope.platform}:`));
    const merged =
      input.admins !== undefined && others.length ? { ...input, admins: [...input.admins, ...others.filter((a) => !input.admins!.includes(a))] } : input;
    const result = validateSetup(merged, rollout.settings, now);
    if (result.newKey && !this.deps.encryptionKey) result.errors.clientSecret = { key: 'setup.error.no_encryption_key' };
    const fields = Object.keys(result.errors) as SetupField[];
    if (fields.length) {
      const errors: Partial<Record<SetupField, Rich>> = {};
      for (const f of fields) errors[f] = renderRich(locale, result.errors[f]!);
      return { ok: false, errors };
    }
    return {
      ok: true,
      save: async () => {
        try {
          const patch: Partial<RolloutSettings> = { ...result.patch, setupAt: now.toISOString() };
          if (result.newKey && this.deps.encryptionKey) {
            patch.credentials = { clientId: result.newKey.clientId, secret: encryptSecret(this.deps.encryptionKey, result.newKey.clientSecret) };
          } else if (result.clearKey) {
            patch.credentials = undefined;
          }
          const saved = await this.deps.service.updateSettings(rollout.id, patch, requester.actor);
          // A new rollout language answers in that language, unless the platform tells the person's own.
          const savedLocale = this.privateLocale(requester, saved.rollout);
          if (!saved.changed) {
            await requester.reply({ kind: 'notice', tone: 'info', lines: [renderRich(savedLocale, saved.notice)] });
            return;
          }
          const lines: Rich[] = [tr(savedLocale, 'setup.saved')];
          if (result.newKey) lines.push(tr(savedLocale, 'setup.saved_key', { clientId: result.newKey.clientId }));
          if (result.clearKey) lines.push(tr(savedLocale, 'setup.removed_key'));
          if (saved.replanned.length) lines.push(tr(savedLocale, 'setup.replanned', { count: saved.replanned.length }));
          await this.cards.refresh(rollout.id).catch((err) => this.deps.logger.warn({ err, rolloutId }, 'settings saved, card not updated'));
          await requester.reply({ kind: 'notice', tone: 'ok', lines });
        } catch (e) {
          await this.fail(requester, rollout, e, { view: ACTIONS.setupSubmit });
        }
      },
    };
  }

  // ---- linking conversations (one rollout in Slack and Teams at once) -------------------------------

  /** `link`: a rollout admin gets a one-time code (A–Z, 0–9, a dash; 15 minutes) to type in the other conversation. */
  private async linkCode(rollout: Rollout, requester: Requester): Promise<void> {
    if (!this.deps.service.isAdmin(requester.actor, rollout)) throw new BwprepError('forbidden', { key: 'error.forbidden.link' });
    // No 0/O or 1/I: a code is read aloud and typed by hand.
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    const pick = () => Array.from({ length: 4 }, () => alphabet[randomInt(alphabet.length)]).join('');
    const code = `${pick()}-${pick()}`;
    await this.deps.store.kv.set(`link-code:${code}`, { rolloutId: rollout.id, by: requester.actor.user }, LINK_CODE_TTL_MS);
    await requester.reply({ kind: 'notice', tone: 'info', lines: [tr(this.privateLocale(requester, rollout), 'link.code', { code })] });
  }

  /**
   * `link <code>`: binds this conversation to the code's rollout. A used, expired or wrong code binds
   * nothing; a code is consumed once, also across replicas (a lease on it decides who uses it). `current`:
   * the rollout this conversation already has (linked elsewhere, or its own): then it cannot follow another
   * one — its steps would be hidden, and its digests keep coming — and the code is left unused.
   */
  private async bind(conversation: ConversationRef, requester: Requester, code: string, current: Rollout | undefined): Promise<void> {
    const entry = await this.deps.store.kv.get<{ rolloutId: string }>(`link-code:${code}`);
    const home = entry ? await this.deps.service.get(entry.rolloutId) : undefined;
    if (current && home && current.id === home.id) throw new BwprepError('bad_usage', { key: 'error.link_self' });
    if (current)
      throw new BwprepError('bad_usage', {
        key: conversationKey(current.conversation) === conversationKey(conversation) ? 'error.link_has_rollout' : 'error.link_already',
      });
    if (!entry || !home) throw new BwprepError('bad_usage', { key: 'error.link_code_unknown' });
    // The reply is the person's (their language, else the rollout they now follow).
    const locale = this.privateLocale(requester, home);
    // One installation per platform: a conversation of the same platform in another workspace (a request
    // from a foreign Slack team) cannot be served by this bot, so it cannot follow the rollout.
    if (conversation.platform === home.conversation.platform && conversation.workspace !== home.conversation.workspace) {
      throw new BwprepError('forbidden', { key: 'error.link_other_workspace' });
    }
    if (!(await this.deps.store.leases.acquire(`link-code-used:${code}`, requester.actor.user + Math.random(), LINK_CODE_TTL_MS))) {
      throw new BwprepError('bad_usage', { key: 'error.link_code_unknown' });
    }
    await this.deps.store.kv.delete(`link-code:${code}`);
    // The pointer first: a crash after it leaves a pointer the rollout does not confirm, which is ignored.
    await this.deps.store.kv.set(`conversation:${conversationKey(conversation)}`, entry.rolloutId);
    const rollout = await this.deps.service.link(entry.rolloutId, conversation, requester.actor);
    await requester.reply({ kind: 'notice', tone: 'ok', lines: [tr(locale, 'link.linked', { home: { conversation: rollout.conversation } })] });
    await this.cards
      .post(rollout.id, requester.actor, conversation)
      .catch((err) => this.deps.logger.warn({ err, rolloutId: rollout.id }, 'linked, but the card could not be posted here'));
    await this.cards.refreshAfterChange(rollout.id);
  }

  /** `unlink`: this conversation stops following the rollout (rollout admins); its card is retired. */
  private async unbind(rollout: Rollout, conversation: ConversationRef, requester: Requester): Promise<void> {
    const { card } = await this.deps.service.unlink(rollout.id, conversation, requester.actor);
    await this.deps.store.kv.delete(`conversation:${conversationKey(conversation)}`);
    if (card) await this.cards.retire(card, rollout.settings.locale);
    await requester.reply({
      kind: 'notice',
      tone: 'ok',
      lines: [tr(this.privateLocale(requester, rollout), 'link.unlinked', { home: { conversation: rollout.conversation } })],
    });
    await this.cards.refreshAfterChange(rollout.id);
  }

  // ---- export, home ---------------------------------------------------------------------------------

  private async export(rollout: Rollout, requester: Requester, format: 'csv' | 'md' | 'json'): Promise<void> {
    const locale = rollout.settings.locale;
    const [audit, history] = await Promise.all([
      this.deps.store.audit.list(rollout.id, { limit: AUDIT_IN_REPORT }),
      this.deps.service.checkHistory(rollout.id),
    ]);
    const report = buildReport(this.deps.service.templateFor(rollout), rollout, this.deps.clock.now(), locale, audit, history);
    // A person is shown by id inside files: a mention means nothing there.
    const content = format === 'csv' ? reportCsv(report) : format === 'json' ? reportJson(report) : reportMarkdown(report, rollout.settings.timezone);
    const day = this.deps.clock.now().toISOString().slice(0, 10);
    const filename = `${t(locale, 'report.filename')}-${day}.${format}`;
    const sentPrivately = tr(this.privateLocale(requester, rollout), 'report.sent_privately', { format: format.toUpperCase() });
    await requester.reply({
      kind: 'file',
      file: { filename, content, format, comment: t(locale, 'report.uploaded', { format: format.toUpperCase() }), sentPrivately },
    });
  }

  /**
   * The App Home (or a platform's equivalent): the person's steps and rollouts in this workspace, and for a
   * rollout admin a notice per rollout whose conversation bwprep cannot post in (issue 9: admins are told by
   * DM and here, until the bot can post there again).
   */
  async home(user: UserKey, scope: Requester['scope'], locale?: Locale): Promise<HomeView & { notices: Rich[] }> {
    const l = locale ?? this.deps.defaults.locale;
    const rollouts = await this.rolloutsIn(scope);
    const view = buildHomeView(this.deps.service.template, rollouts, user, this.deps.clock.now(), l, this.deps.service.globalAdmins);
    const admin = (r: Rollout) => r.settings.admins.includes(user) || this.deps.service.globalAdmins.includes(user);
    const notices = rollouts.filter((r) => r.unreachable && admin(r)).map((r) => this.unreachableNotice(r, l));
    return { ...view, notices };
  }

  private unreachableNotice(r: Rollout, locale: Locale): Rich {
    const u = r.unreachable!;
    const hint = this.deps.platforms.get(r.conversation.platform)?.explain?.(u.code);
    const line = tr(locale, 'home.unreachable', { channel: { conversation: r.conversation }, date: u.since.slice(0, 10) });
    return hint ? [...line, ' ', ...renderRich(locale, hint)] : line;
  }

  private async rolloutsIn(scope: Requester['scope']): Promise<Rollout[]> {
    return (await this.deps.store.rollouts.list()).filter((r) =>
      conversationsOf(r).some(({ conversation: c }) => c.platform === scope.platform && c.workspace === scope.workspace),
    );
  }

  // ---- reachability ---------------------------------------------------------------------------------

  /**
   * The platform says bwprep can post in a conversation again (the bot was re-invited, the channel
   * unarchived). Clears the rollout's unreachable mark — only for one of `codes` when given — so scheduled
   * digests resume. Returns true when a mark was cleared.
   */
  async conversationReachable(conversation: ConversationRef, actor: Requester['actor'], codes?: readonly string[]): Promise<boolean> {
    const rollout = await this.deps.service.get(conversationKey(conversation));
    if (!rollout?.unreachable || (codes && !codes.includes(rollout.unreachable.code))) return false;
    await this.deps.service.clearUnreachable(rollout.id, actor);
    return true;
  }

  /**
   * The installation in a workspace is gone (app uninstalled, bot token revoked): every rollout there is
   * marked unreachable with `code`, so the scheduler does no more work for it. Returns how many were marked.
   */
  async workspaceUnreachable(scope: Requester['scope'], code: string): Promise<number> {
    let marked = 0;
    for (const r of await this.rolloutsIn(scope)) if (await this.deps.service.markUnreachable(r.id, code, { installation: true })) marked++;
    return marked;
  }

  /** The installation works again (e.g. reinstalled): clears the marks `workspaceUnreachable` set with one of `codes`. */
  async workspaceReachable(scope: Requester['scope'], codes: readonly string[], actor: Requester['actor']): Promise<number> {
    let cleared = 0;
    for (const r of await this.rolloutsIn(scope)) {
      if (r.unreachable && codes.includes(r.unreachable.code)) {
        await this.deps.service.clearUnreachable(r.id, actor);
        cleared++;
      }
    }
    return cleared;
  }

  // ---- direct messages --------------------------------------------------------------------------------

  /**
   * A command typed in a direct message with the bot (Slack's Messages tab). There is no channel, so:
   * `help` works; `mine` lists the person's steps across the rollouts of this workspace; the step commands
   * work when the text names the rollout's conversation (the platform finds it: `conversation`); anything
   * else says where to run it. A DM never creates a rollout.
   */
  async direct(requester: Requester, text: string, resolveUser: (token: string) => UserKey | undefined, conversation?: ConversationRef): Promise<void> {
    const locale = this.privateLocale(requester);
    let rollout: Rollout | undefined;
    let name = 'unknown';
    try {
      const cmd = parseCommand(text, { resolveUser });
      name = cmd.name;
      const info = (lines: Rich[]) => requester.reply({ kind: 'notice', tone: 'info', lines });
      if (cmd.name === 'help') {
        await requester.reply({ kind: 'help', view: buildHelpView(locale) });
        await info([tr(locale, 'dm.intro')]);
      } else if (!conversation) {
        if (cmd.name === 'mine') await this.mineEverywhere(requester, locale);
        else if (DIRECT_COMMANDS.has(cmd.name)) await info([tr(locale, 'dm.name_channel')]);
        else await info([tr(locale, 'dm.channel_only', { command: cmd.name })]);
      } else {
        const found = await this.existingRollout(conversation);
        if (
          !found ||
          !conversationsOf(found).some(({ conversation: c }) => c.workspace === requester.scope.workspace && c.platform === requester.scope.platform)
        ) {
          await info([tr(locale, 'dm.no_rollout', { channel: { conversation } })]);
        } else if (!DIRECT_COMMANDS.has(cmd.name)) {
          // The conversation the person named: a linked one serves the command as well as the home does.
          await info([tr(locale, 'dm.channel_only_in', { command: cmd.name, channel: { conversation } })]);
        } else {
          rollout = found;
          await this.runCommand(found, cmd, requester, conversation);
        }
      }
      this.deps.metrics?.commands.inc({ platform: requester.scope.platform, command: name, outcome: 'ok' });
    } catch (e) {
      this.deps.metrics?.commands.inc({ platform: requester.scope.platform, command: name, outcome: 'error' });
      // As in command(): the usage line shows for input errors only, and a malformed text's error carries its own.
      await this.fail(requester, rollout, e, { command: name, direct: true }, { key: `usage.${name}` });
    }
  }

  /** `mine` outside a channel: the person's steps in every rollout of the workspace, each with its conversation. */
  private async mineEverywhere(requester: Requester, locale: Locale): Promise<void> {
    const user = requester.actor.user;
    const lines: MineView['lines'] = [];
    for (const r of await this.rolloutsIn(requester.scope)) {
      for (const l of buildMineView(this.deps.service.template, r, user, locale).lines) {
        lines.push({ ...l, text: [{ conversation: r.conversation }, ' · ', ...l.text] });
      }
    }
    const view: MineView = { title: t(locale, 'mine.title_all'), ...(lines.length ? {} : { empty: t(locale, 'mine.none_all') }), lines };
    await requester.reply({ kind: 'mine', view });
  }

  // ---- the one error boundary --------------------------------------------------------------------

  /** Tells the requester what went wrong (never throws); logs the details. */
  async fail(requester: Requester, rollout: Rollout | undefined, e: unknown, context: object, usage?: Message): Promise<void> {
    const locale = this.privateLocale(requester, rollout);
    const log = this.deps.logger.child
      ? this.deps.logger.child({ ...context, user: requester.actor.user, ...(rollout ? { rolloutId: rollout.id } : {}) })
      : this.deps.logger;
    const lines = describeError(e, locale, log, this.deps.metrics, usage);
    const tone = isBwprepError(e) && e.code === 'forbidden' ? 'refused' : 'warn';
    await requester.reply({ kind: 'notice', tone, lines }).catch((err: unknown) => log.warn({ err }, 'could not send the error reply'));
  }
}
