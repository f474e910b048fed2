import { BwprepError } from '../errors';
import type { CheckHistoryStore, Clock, RolloutStore } from '../ports';
import { applyDuePatch, type DueChange, planPatch, type PlanMode } from '../digest/planning';
import { nextDigestState, type DigestModel } from '../digest/model';
import { localDate } from '../time';
import {
  type Actor,
  type AuditAction,
  type AuditEntry,
  type CheckRecord,
  type CheckRun,
  type ConversationRef,
  conversationKey,
  type DigestState,
  DEFAULT_DESIRED_POLICIES,
  DEFAULT_THRESHOLDS,
  type Locale,
  type MessageRef,
  type Message,
  type Rollout,
  type RolloutSettings,
  type StepRecord,
  type UserKey,
} from './model';
import { allowed, isAdmin, type Permission } from './permissions';
import { appliesToHosting } from './readiness';
import { findStep, type Template, type TemplateStep } from './template';

/** The settings a new rollout starts with (from BWPREP_LOCALE, BW_REGION, BWPREP_TIMEZONE, BWPREP_DIGEST_TIME). */
export type RolloutDefaults = Pick<RolloutSettings, 'locale' | 'hosting' | 'serverUrl' | 'timezone' | 'digestTime' | 'weekdays'>;

export interface ChecklistServiceDeps {
  store: RolloutStore;
  /** The template of new rollouts (BWPREP_TEMPLATE, else the built-in one). */
  template: Template;
  /**
   * Other templates existing rollouts may use (the built-in one when BWPREP_TEMPLATE names another).
   * A rollout keeps the template it was created with (`templateId` + `templateVersion`); see templateFor.
   */
  templates?: readonly Template[];
  clock: Clock;
  defaults: RolloutDefaults;
  globalAdmins: readonly string[];
  /** Where check runs with their evidence are kept (bounded); without it only the step keeps its last check. */
  checkHistory?: CheckHistoryStore;
}

/** The outcome of a command: the rollout after it, whether anything changed, and a notice for the user. */
export interface ChangeResult {
  rollout: Rollout;
  changed: boolean;
  notice: Message;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Refusals that speak of the step's owner; with an owner, their `…_owned` variant names them. */
const OWNER_KEYS = new Set(['error.forbidden.mark', 'error.forbidden.unassign', 'error.forbidden.due']);

export function isValidDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * The one service every checklist change goes through: permission check, state transition, and the audit
 * entry, written together by the store (DESIGN §2).
 */
export class ChecklistService {
  constructor(private readonly deps: ChecklistServiceDeps) {}

  /** The template of new rollouts. For an existing rollout use templateFor(rollout). */
  get template(): Template {
    return this.deps.template;
  }

  /**
   * The template a rollout was created with: the known template with its `templateId` and
   * `templateVersion`, else the newest known version of that id, else the built-in one (the last of
   * `templates`, or `template` when there are no others), so a rollout from before custom templates
   * keeps the steps it has.
   */
  templateFor(rollout: Pick<Rollout, 'templateId' | 'templateVersion'>): Template {
    const known = [this.deps.template, ...(this.deps.templates ?? [])];
    const sameId = known.filter((t) => t.id === rollout.templateId);
    return (
      sameId.find((t) => t.version === rollout.templateVersion) ??
      sameId.sort((a, b) => b.version - a.version)[0] ??
      known[known.length - 1] ??
      this.deps.template
    );
  }

  get globalAdmins(): readonly string[] {
    return this.deps.globalAdmins;
  }

  isAdmin(actor: Actor, rollout: Rollout): boolean {
    return isAdmin(actor, rollout, this.deps.globalAdmins);
  }

  /**
   * Resolves a step id case-insensitively (in the template of new rollouts, then in the other known
   * ones; the change itself checks that the rollout has the step) or throws `unknown_step`.
   */
  step(id: string): TemplateStep {
    const s = [this.deps.template, ...(this.deps.templates ?? [])].map((t) => findStep(t, id)).find(Boolean);
    if (!s) {
      throw new BwprepError('unknown_step', {
        key: 'error.unknown_step',
        vars: { step: id, steps: this.deps.template.steps.map((x) => x.id).join(', ') },
      });
    }
    return s;
  }

  async get(id: string): Promise<Rollout | undefined> {
    return this.deps.store.get(id);
  }

  /** The stored version of a rollout, undefined when there is none (cheap where the store can tell it alone). */
  async version(id: string): Promise<number | undefined> {
    const { store } = this.deps;
    return store.version ? store.version(id) : (await store.get(id))?.version;
  }

  /** The rollout's recent check runs with their evidence, oldest first (empty without a history store). */
  async checkHistory(id: string): Promise<CheckRun[]> {
    return this.deps.checkHistory ? this.deps.checkHistory.list(id) : [];
  }

  /** Returns the rollout of a conversation, creating it with the defaults on first use. */
  async ensureRollout(conversation: ConversationRef, actor: Actor): Promise<Rollout> {
    const id = conversationKey(conversation);
    const existing = await this.deps.store.get(id);
    if (existing) return existing;
    const now = this.now();
    const d = this.deps.defaults;
    const settings: RolloutSettings = {
      locale: d.locale,
      hosting: d.hosting,
      ...(d.serverUrl ? { serverUrl: d.serverUrl } : {}),
      timezone: d.timezone,
      digestTime: d.digestTime,
      weekdays: [...d.weekdays],
      admins: [actor.user],
      desiredPolicies: [...DEFAULT_DESIRED_POLICIES],
      thresholds: { ...DEFAULT_THRESHOLDS },
      digestEnabled: true,
    };
    const steps: Record<string, StepRecord> = {};
    for (const s of this.deps.template.steps) {
      const applies = appliesToHosting(s, settings.hosting);
      steps[s.id] = { id: s.id, state: applies ? 'open' : 'not_applicable', updatedAt: now, ...(applies ? {} : { hostingExcluded: true }) };
    }
    const rollout: Rollout = {
      id,
      conversation,
      templateId: this.deps.template.id,
      templateVersion: this.deps.template.version,
      settings,
      steps,
      digest: { history: [] },
      createdAt: now,
      createdBy: actor.user,
      version: 0,
    };
    return this.deps.store.create(rollout, [this.audit(rollout, actor, 'rollout.created', { detail: { hosting: settings.hosting } })]);
  }

  async assign(rolloutId: string, stepId: string, owner: UserKey, actor: Actor): Promise<ChangeResult> {
    const step = this.step(stepId);
    return this.change(
      rolloutId,
      actor,
      (r, rec) => {
        // The card offers no owner picker on these; the command must not take a way round it.
        this.notExcluded(rec, step);
        const self = owner === actor.user;
        this.require(self ? 'assign_self' : 'assign', actor, r, rec, self ? 'error.forbidden.assign_self' : 'error.forbidden.assign');
        if (rec.owner === owner) return { notice: { key: 'notice.already_owner', vars: { step: step.id, owner } } };
        const from = rec.owner;
        rec.owner = owner;
        return {
          audit: { action: 'step.assigned', stepId: step.id, ...(from ? { from } : {}), to: owner },
          notice: { key: 'notice.assigned', vars: { step: step.id, owner } },
        };
      },
      step.id,
    );
  }

  async unassign(rolloutId: string, stepId: string, actor: Actor): Promise<ChangeResult> {
    const step = this.step(stepId);
    return this.change(
      rolloutId,
      actor,
      (r, rec) => {
        if (!rec.owner) return { notice: { key: 'notice.already_unassigned', vars: { step: step.id } } };
        this.require('unassign', actor, r, rec, 'error.forbidden.unassign');
        const from = rec.owner;
        delete rec.owner;
        return { audit: { action: 'step.unassigned', stepId: step.id, from }, notice: { key: 'notice.unassigned', vars: { step: step.id } } };
      },
      step.id,
    );
  }

  async markDone(rolloutId: string, stepId: string, actor: Actor, note?: string): Promise<ChangeResult> {
    const step = this.step(stepId);
    return this.change(
      rolloutId,
      actor,
      (r, rec) => {
        this.notExcluded(rec, step);
        this.require('mark', actor, r, rec, 'error.forbidden.mark');
        if (rec.state === 'done' || rec.state === 'verified') {
          return { notice: { key: 'notice.already_done', vars: { step: step.id } } };
        }
        if (rec.state === 'not_applicable') {
          throw new BwprepError('invalid_transition', { key: 'error.skipped_step', vars: { step: step.id } });
        }
        const from = rec.state;
        rec.state = 'done';
        rec.doneBy = actor.user;
        rec.doneAt = this.now();
        if (note) rec.note = note;
        else delete rec.note;
        return {
          audit: { action: 'step.done', stepId: step.id, from, to: 'done', ...(note ? { detail: { note } } : {}) },
          notice: { key: 'notice.done', vars: { step: step.id } },
        };
      },
      step.id,
    );
  }

  async reopen(rolloutId: string, stepId: string, actor: Actor): Promise<ChangeResult> {
    const step = this.step(stepId);
    return this.change(
      rolloutId,
      actor,
      (r, rec) => {
        this.notExcluded(rec, step);
        if (rec.state === 'open') return { notice: { key: 'notice.already_open', vars: { step: step.id } } };
        // Un-skipping is a settings decision; reopening a claim is the owner's.
        this.require(
          rec.state === 'not_applicable' ? 'skip' : 'mark',
          actor,
          r,
          rec,
          rec.state === 'not_applicable' ? 'error.forbidden.unskip' : 'error.forbidden.mark',
        );
        const from = rec.state;
        rec.state = 'open';
        delete rec.doneBy;
        delete rec.doneAt;
        delete rec.note;
        delete rec.skipReason;
        return { audit: { action: 'step.reopened', stepId: step.id, from, to: 'open' }, notice: { key: 'notice.reopened', vars: { step: step.id } } };
      },
      step.id,
    );
  }

  async skip(rolloutId: string, stepId: string, reason: string, actor: Actor): Promise<ChangeResult> {
    const step = this.step(stepId);
    const why = reason.trim();
    if (!why) throw new BwprepError('bad_usage', { key: 'error.skip_reason' }, { usage: { key: 'usage.skip' } });
    return this.change(
      rolloutId,
      actor,
      (r, rec) => {
        this.notExcluded(rec, step);
        this.require('skip', actor, r, rec, 'error.forbidden.skip');
        // A skip reason exists only while the step is skipped: reopening deletes it, nothing else sets it.
        if (rec.skipReason === why) return { notice: { key: 'notice.already_skipped', vars: { step: step.id } } };
        const from = rec.state;
        rec.state = 'not_applicable';
        rec.skipReason = why;
        return {
          audit: { action: 'step.skipped', stepId: step.id, from, to: 'not_applicable', detail: { reason: why } },
          notice: { key: 'notice.skipped', vars: { step: step.id } },
        };
      },
      step.id,
    );
  }

  async setDue(rolloutId: string, stepId: string, date: string | null, actor: Actor): Promise<ChangeResult> {
    const step = this.step(stepId);
    if (date !== null && !isValidDate(date)) {
      throw new BwprepError('bad_date', { key: 'error.bad_date', vars: { date } }, { usage: { key: 'usage.due' } });
    }
    return this.change(
      rolloutId,
      actor,
      (r, rec) => {
        this.notExcluded(rec, step);
        this.require('due', actor, r, rec, 'error.forbidden.due');
        if ((rec.due ?? null) === date && (date === null || rec.dueSource === 'manual')) {
          // Clearing a date that is not there: say the step has none, not "already has that due date".
          return { notice: { key: date === null ? 'notice.due_already_none' : 'notice.due_unchanged', vars: { step: step.id } } };
        }
        const from = rec.due;
        if (date) {
          rec.due = date;
          rec.dueSource = 'manual';
        } else {
          delete rec.due;
          delete rec.dueSource;
        }
        return {
          audit: { action: 'step.due_set', stepId: step.id, ...(from ? { from } : {}), ...(date ? { to: date } : {}) },
          notice: (date ? { key: 'notice.due_set', vars: { step: step.id, date } } : { key: 'notice.due_cleared', vars: { step: step.id } }) as Message,
        };
      },
      step.id,
    );
  }

  async snooze(rolloutId: string, stepId: string, until: string, actor: Actor): Promise<ChangeResult> {
    const step = this.step(stepId);
    return this.change(
      rolloutId,
      actor,
      (r, rec) => {
        this.require('due', actor, r, rec, 'error.forbidden.mark');
        // A second click on the same snooze changes nothing and writes nothing.
        if (rec.snoozedUntil === until) return { notice: { key: 'notice.snoozed', vars: { step: step.id, date: until } } };
        rec.snoozedUntil = until;
        return { audit: { action: 'step.snoozed', stepId: step.id, to: until }, notice: { key: 'notice.snoozed', vars: { step: step.id, date: until } } };
      },
      step.id,
    );
  }

  async setLocale(rolloutId: string, locale: Locale, actor: Actor): Promise<ChangeResult> {
    return this.changeRollout(rolloutId, actor, (r) => {
      this.require('settings', actor, r, undefined, 'error.forbidden.settings');
      if (r.settings.locale === locale) return { notice: { key: 'notice.locale_unchanged', vars: { locale } } };
      const from = r.settings.locale;
      r.settings.locale = locale;
      return { audit: { action: 'rollout.locale_set', from, to: locale }, notice: { key: 'notice.locale_set', vars: { locale } } };
    });
  }

  /**
   * Applies a settings patch (setup dialog). Hosting changes re-evaluate which steps apply; secrets are set
   * through `credentials` already encrypted by the caller and never written to the audit detail. When the
   * go-live date, hosting, weekdays or time zone change and a go-live date is set, planned due dates are
   * re-planned in the same atomic write (a manual `due` always wins). Returns the re-planned steps.
   */
  async updateSettings(rolloutId: string, patch: Partial<RolloutSettings>, actor: Actor): Promise<ChangeResult & { replanned: DueChange[] }> {
    let replanned: DueChange[] = [];
    const result = await this.changeRollout(rolloutId, actor, (r) => {
      replanned = [];
      this.require('settings', actor, r, undefined, 'error.forbidden.settings');
      const changedKeys = Object.keys(patch).filter(
        (k) =>
          (k !== 'setupAt' || !r.settings.setupAt) &&
          JSON.stringify((r.settings as unknown as Record<string, unknown>)[k]) !== JSON.stringify((patch as Record<string, unknown>)[k]),
      );
      if (!changedKeys.length) return { notice: { key: 'notice.settings_unchanged' } };
      const before = r.settings;
      r.settings = { ...r.settings, ...patch };
      if (patch.credentials === undefined && 'credentials' in patch) delete r.settings.credentials;
      if (patch.hosting) this.applyHosting(r);
      const audit: PendingAudit[] = [{ action: 'rollout.settings_updated', detail: { changed: changedKeys.filter((k) => k !== 'credentials') } }];
      if (changedKeys.includes('credentials')) audit.push({ action: 'rollout.credentials_set', detail: { clientId: patch.credentials?.clientId ?? null } });
      const s = r.settings;
      const planInputsChanged =
        s.goLive !== before.goLive || s.hosting !== before.hosting || String(s.weekdays) !== String(before.weekdays) || s.timezone !== before.timezone;
      if (planInputsChanged && (s.goLive || before.goLive)) {
        replanned = this.replanInPlace(r, 'full');
        audit.push(...this.dueAudit(replanned));
      }
      return { audit, notice: { key: 'notice.settings_saved' } };
    });
    return { ...result, replanned };
  }

  /**
   * Gives steps planned due dates back from go-live (`fill`: only steps without a date, the scheduler's
   * daily pass; `full`: every non-manual step). One `step.due_set` audit entry per change
   * (`detail.source = 'planned'`); nothing is written when the plan already holds.
   */
  async replanDueDates(rolloutId: string, mode: PlanMode, actor: Actor): Promise<{ rollout: Rollout; changes: DueChange[] }> {
    let changes: DueChange[] = [];
    const { rollout } = await this.changeRollout(rolloutId, actor, (r) => {
      changes = this.replanInPlace(r, mode);
      return { audit: this.dueAudit(changes), notice: { key: 'notice.saved' } };
    });
    return { rollout, changes };
  }

  private replanInPlace(r: Rollout, mode: PlanMode): DueChange[] {
    const now = this.deps.clock.now();
    const today = localDate(now, r.settings.timezone);
    return applyDuePatch(r, planPatch(this.deps.template, r, { mode, today }), now.toISOString());
  }

  private dueAudit(changes: DueChange[]): PendingAudit[] {
    return changes.map((c) => ({
      action: 'step.due_set',
      stepId: c.stepId,
      ...(c.from ? { from: c.from } : {}),
      ...(c.to ? { to: c.to } : {}),
      detail: { source: 'planned' },
    }));
  }

  // ---- the daily digest's state (the scheduler's writes) ------------------------------------------

  /**
   * Claims a digest slot before posting (see src/scheduler/scheduler.ts, "Crash windows"): succeeds only when
   * `isPosted(lastSlot)` is false, in one conditional write. Returns the digest state before the claim.
   */
  async claimDigestSlot(
    rolloutId: string,
    slot: string,
    isPosted: (lastSlot: string | undefined) => boolean,
  ): Promise<{ rollout: Rollout; before?: DigestState }> {
    let before: DigestState | undefined;
    const rollout = await this.deps.store.update(rolloutId, (r) => {
      before = undefined;
      if (isPosted(r.digest.lastSlot)) return null;
      before = r.digest;
      r.digest = { ...r.digest, lastSlot: slot };
      return { rollout: r, audit: [] };
    });
    return { rollout, ...(before ? { before } : {}) };
  }

  /** Frees a claimed slot after a post that did not go out (only while the claim is still ours). */
  async releaseDigestSlot(rolloutId: string, slot: string, previousSlot: string | undefined): Promise<void> {
    await this.deps.store.update(rolloutId, (r) => {
      if (r.digest.lastSlot !== slot) return null;
      const digest: DigestState = { ...r.digest };
      if (previousSlot) digest.lastSlot = previousSlot;
      else delete digest.lastSlot;
      r.digest = digest;
      return { rollout: r, audit: [] };
    });
  }

  /**
   * Marks a claimed slot as given up (the post failed `maxPostAttempts` times; nothing went out), so the
   * scheduler's reconciliation of unrecorded claims does not retry it. Only while the claim is still `slot`.
   */
  async abandonDigestSlot(rolloutId: string, slot: string): Promise<void> {
    await this.deps.store.update(rolloutId, (r) => {
      if (r.digest.lastSlot !== slot || r.digest.abandonedSlot === slot) return null;
      r.digest = { ...r.digest, abandonedSlot: slot };
      return { rollout: r, audit: [] };
    });
  }

  /**
   * Records a posted digest: the step snapshot for tomorrow's "what changed", the day's readiness, and a
   * `digest.posted` audit entry, once per slot (a slot recorded already is left as it is). A preview
   * (`slot` undefined) records the audit entry only.
   */
  /** Records a posted digest; false when its slot was recorded already (by another replica), nothing written. */
  async recordDigest(
    rolloutId: string,
    model: DigestModel,
    posted: { at: Date; slot?: string; detail: Record<string, unknown> },
    actor: Actor,
  ): Promise<boolean> {
    let recorded = false;
    await this.deps.store.update(rolloutId, (r) => {
      recorded = false;
      // A slot is recorded once: a replica that recorded it meanwhile (a reconciliation that found the post
      // after this replica's lease lapsed) has written its snapshot and audit entry already.
      if (posted.slot && r.digest.postedSlot === posted.slot) return null;
      recorded = true;
      if (posted.slot) r.digest = nextDigestState(r.digest, model, r, posted.at, posted.slot);
      const entry: AuditEntry = {
        rolloutId: r.id,
        at: posted.at.toISOString(),
        actor: actor.user,
        surface: actor.surface,
        action: 'digest.posted',
        ...(posted.slot ? { to: posted.slot } : {}),
        detail: posted.detail,
      };
      return { rollout: r, audit: [entry] };
    });
    return recorded;
  }

  /**
   * Marks the rollout's conversation unreachable for scheduled posts (see Rollout.unreachable). Returns true
   * when this call set it (so the admins are told once), false when it was already set.
   */
  async markUnreachable(rolloutId: string, code: string, opts: { installation?: boolean } = {}): Promise<boolean> {
    let first = false;
    await this.deps.store.update(rolloutId, (r) => {
      first = false;
      // A conversation already unreachable still learns that the whole installation is gone.
      if (r.unreachable && (r.unreachable.installation || !opts.installation)) return null;
      first = true;
      r.unreachable = { code, since: this.now(), ...(opts.installation ? { installation: true } : {}) };
      return { rollout: r, audit: [this.audit(r, { user: 'bwprep:scheduler', surface: 'scheduler' }, 'rollout.unreachable', { to: code })] };
    });
    return first;
  }

  /** The bot can post in the conversation again (it was re-invited, the channel unarchived). */
  async clearUnreachable(rolloutId: string, actor: Actor): Promise<void> {
    await this.deps.store.update(rolloutId, (r) => {
      if (!r.unreachable) return null;
      const from = r.unreachable.code;
      delete r.unreachable;
      return { rollout: r, audit: [this.audit(r, actor, 'rollout.reachable', { from })] };
    });
  }

  /**
   * Records where the living card of one of the rollout's conversations is (`card.platform` + `card.channel`
   * name it; pass `conversation` when clearing one). A re-post retires the old one (the caller retires it).
   */
  async setCard(
    rolloutId: string,
    card: MessageRef | undefined,
    actor: Actor,
    conversation?: ConversationRef,
  ): Promise<{ rollout: Rollout; previous?: MessageRef }> {
    let previous: MessageRef | undefined;
    const rollout = await this.deps.store.update(rolloutId, (r) => {
      previous = undefined;
      const audit: AuditEntry[] = [];
      const where = card ? { platform: card.platform, channel: card.channel } : conversation;
      const link = where && (r.links ?? []).find((l) => l.conversation.platform === where.platform && l.conversation.channel === where.channel);
      if (link) {
        previous = link.card;
        if (card) link.card = card;
        else delete link.card;
      } else {
        previous = r.card;
        if (card) r.card = card;
        else delete r.card;
      }
      // Posting a card is bookkeeping, not a change to the checklist: no audit entry (the audit trail holds
      // what people and the bot changed). Entries from earlier releases stay readable.
      if (card) {
        // A card that went out proves the bot can post in the conversation again.
        if (r.unreachable && !link) {
          audit.push(this.audit(r, actor, 'rollout.reachable', { from: r.unreachable.code }));
          delete r.unreachable;
        }
      }
      return { rollout: r, audit };
    });
    return { rollout, ...(previous ? { previous } : {}) };
  }

  /**
   * Links a further conversation (another channel, another platform) to the rollout; every change then
   * shows on its card too. The caller checked the one-time code. Refuses a conversation already in it.
   */
  async link(rolloutId: string, conversation: ConversationRef, actor: Actor): Promise<Rollout> {
    return this.deps.store.update(rolloutId, (r) => {
      const key = conversationKey(conversation);
      if (conversationKey(r.conversation) === key || (r.links ?? []).some((l) => conversationKey(l.conversation) === key)) {
        throw new BwprepError('bad_usage', { key: 'error.link_self' });
      }
      r.links = [...(r.links ?? []), { conversation, linkedAt: this.now(), linkedBy: actor.user }];
      return {
        rollout: r,
        audit: [
          this.audit(r, actor, 'rollout.linked', {
            to: key,
            detail: { platform: conversation.platform, ...(conversation.name ? { name: conversation.name } : {}) },
          }),
        ],
      };
    });
  }

  /** Detaches a linked conversation (rollout admins). The home conversation cannot be unlinked. Returns its card, to retire. */
  async unlink(rolloutId: string, conversation: ConversationRef, actor: Actor): Promise<{ rollout: Rollout; card?: MessageRef }> {
    let card: MessageRef | undefined;
    const rollout = await this.deps.store.update(rolloutId, (r) => {
      card = undefined;
      this.require('settings', actor, r, undefined, 'error.forbidden.link');
      const key = conversationKey(conversation);
      if (conversationKey(r.conversation) === key) throw new BwprepError('bad_usage', { key: 'error.unlink_home' });
      const link = (r.links ?? []).find((l) => conversationKey(l.conversation) === key);
      if (!link) throw new BwprepError('bad_usage', { key: 'error.not_linked' });
      card = link.card;
      r.links = (r.links ?? []).filter((l) => l !== link);
      return { rollout: r, audit: [this.audit(r, actor, 'rollout.unlinked', { from: key })] };
    });
    return { rollout, ...(card ? { card } : {}) };
  }

  /**
   * Applies verification results (DESIGN §2): a pass verifies (even unclaimed); a fail on a claimed or
   * verified step flags it `failing` (never silently erasing the claim); a pass on a failing step restores
   * it. Other statuses (warn, manual, error) only record the evidence: in particular `error` (the data the
   * check needs did not come) never changes a state, so a verified step stays verified and a failing one
   * failing (missing data is not drift). Every step keeps its latest result; the audit trail gets an entry
   * only for a step whose state changed (no evidence, so no member e-mail address, lands there); the run
   * with its evidence goes to the bounded check history. Returns the steps whose state changed.
   */
  async recordChecks(
    rolloutId: string,
    results: { stepId: string; record: CheckRecord }[],
    actor: Actor,
  ): Promise<{ rollout: Rollout; transitions: { stepId: string; from: string; to: string }[] }> {
    let transitions: { stepId: string; from: string; to: string }[] = [];
    const rollout = await this.deps.store.update(rolloutId, (r) => {
      transitions = [];
      const audit: AuditEntry[] = [];
      for (const { stepId, record } of results) {
        const rec = r.steps[stepId];
        if (!rec) continue;
        rec.lastCheck = record;
        const from = rec.state;
        let to = from;
        // Only a verdict moves a state; `error`, `warn`, `manual` and `not_applicable` record evidence only.
        if (from !== 'not_applicable') {
          if (record.status === 'pass') to = 'verified';
          else if (record.status === 'fail' && (from === 'done' || from === 'verified')) to = 'failing';
        }
        if (to === from) continue;
        rec.state = to;
        rec.updatedAt = record.at;
        rec.updatedBy = actor.user;
        transitions.push({ stepId, from, to });
        audit.push(this.audit(r, actor, 'step.check', { stepId, from, to, detail: { status: record.status, summary: { key: record.summary.key } } }));
      }
      return { rollout: r, audit };
    });
    if (this.deps.checkHistory && results.length) {
      await this.deps.checkHistory.append(rolloutId, {
        at: results[0]!.record.at,
        actor: actor.user,
        surface: actor.surface,
        results: results.map(({ stepId, record }) => ({ stepId, status: record.status, summary: record.summary, evidence: record.evidence })),
      });
    }
    return { rollout, transitions };
  }

  /** Mutates the rollout (not a step) atomically; a mutator that returns no audit entry writes nothing. */
  private async changeRollout(
    rolloutId: string,
    actor: Actor,
    fn: (r: Rollout) => { audit?: PendingAudit | PendingAudit[]; notice: Message },
  ): Promise<ChangeResult> {
    let changed = false;
    let notice: Message = { key: 'notice.saved' };
    const rollout = await this.deps.store.update(rolloutId, (r) => {
      const out = fn(r);
      notice = out.notice;
      const pending = out.audit === undefined ? [] : Array.isArray(out.audit) ? out.audit : [out.audit];
      changed = pending.length > 0;
      if (!changed) return null;
      return { rollout: r, audit: pending.map((p) => this.audit(r, actor, p.action, p)) };
    });
    return { rollout, changed, notice };
  }

  private async change(
    rolloutId: string,
    actor: Actor,
    fn: (r: Rollout, rec: StepRecord) => { audit?: PendingAudit; notice: Message },
    stepId: string,
  ): Promise<ChangeResult> {
    return this.changeRollout(rolloutId, actor, (r) => {
      const rec = r.steps[stepId];
      if (!rec) throw new BwprepError('unknown_step', { key: 'error.unknown_step', vars: { step: stepId, steps: Object.keys(r.steps).join(', ') } });
      const out = fn(r, rec);
      if (out.audit) {
        rec.updatedAt = this.now();
        rec.updatedBy = actor.user;
      }
      return out;
    });
  }

  private applyHosting(r: Rollout): void {
    for (const s of this.templateFor(r).steps) {
      const rec = r.steps[s.id];
      if (!rec) continue;
      const applies = appliesToHosting(s, r.settings.hosting);
      if (!applies && rec.state !== 'not_applicable') {
        rec.state = 'not_applicable';
        rec.hostingExcluded = true;
      } else if (applies && rec.hostingExcluded) {
        rec.state = 'open';
        delete rec.hostingExcluded;
      }
    }
  }

  private notExcluded(rec: StepRecord, step: TemplateStep): void {
    if (rec.hostingExcluded) throw new BwprepError('not_applicable_step', { key: 'error.hosting_excluded', vars: { step: step.id } });
  }

  private require(perm: Permission, actor: Actor, r: Rollout, rec: StepRecord | undefined, key: string): void {
    if (!allowed(perm, actor, r, rec, this.deps.globalAdmins)) {
      // The refusal names who may do it (README "Permissions"): the owner where the message speaks of one
      // (`…_owned` keys), and the rollout's admins as a list of people (`admins`, rendered as mentions).
      const owned = rec?.owner && OWNER_KEYS.has(key);
      throw new BwprepError('forbidden', {
        key: owned ? `${key}_owned` : key,
        vars: { step: rec?.id ?? '', owner: rec?.owner ?? '', admins: this.adminList(r) },
      });
    }
  }

  /** The people who may do everything in a rollout, as a comma-separated list of UserKeys (the `admins` var). */
  adminList(r: Rollout): string {
    return [...new Set([...r.settings.admins, ...this.deps.globalAdmins])].join(',');
  }

  private audit(r: Rollout, actor: Actor, action: AuditAction, extra: Partial<AuditEntry> = {}): AuditEntry {
    const { action: _ignored, ...rest } = extra as Partial<AuditEntry> & { action?: string };
    return { rolloutId: r.id, at: this.now(), actor: actor.user, surface: actor.surface, action, ...rest };
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

export type PendingAudit = Omit<Partial<AuditEntry>, 'action'> & { action: AuditAction };
