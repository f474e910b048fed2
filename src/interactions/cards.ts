import { type Actor, type ConversationRef, conversationsOf, type Locale, type MessageRef, type Rollout } from '../core/checklist/model';
import type { ChecklistService } from '../core/checklist/service';
import type { Clock } from '../core/ports';
import type { Metrics } from '../metrics';
import { buildChecklistView } from '../views/checklist';
import { CardGoneError, type ErrorLogger } from './errors';
import type { Platforms } from './platforms';

/** The bwprep system actor, for bookkeeping writes no person asked for (a vanished card forgotten). */
const SYSTEM_ACTOR = (surface: Actor['surface']): Actor => ({ user: 'system:bwprep', surface });

/**
 * The living checklist card, for every platform: one current card per conversation (a rollout linked to
 * several conversations has one in each), re-rendered in place after every change; `status` re-posts the
 * card of the conversation it was typed in and retires the old one there.
 *
 * Refreshes of one rollout are serialized in this process and coalesced: while one renders, at most one
 * more waits, and every later request joins the waiting one (it renders the newest state anyway). So a burst
 * of clicks costs at most two updates in flight per card — also inside Slack's `chat.update` limit — and the
 * last word on the card is always the latest stored state. After an update the version is read again, and
 * the card re-rendered (bounded) when another replica wrote meanwhile.
 *
 * A steady stream of changes is paced as well (issue 12 §5): a refresh that follows the previous update of
 * the same rollout's cards by less than `minIntervalMs` waits out the rest of that interval, and every refresh
 * asked for meanwhile joins it. The first change after a quiet spell updates the card at once; under load each
 * card gets at most one update per interval with the newest state, whatever the click rate — one card per
 * second by default, well inside Slack's Tier 3 `chat.update` allowance and Teams' per-conversation limits.
 * A `checking` refresh (a check run's "checking…" and its result) is never held back.
 *
 * A refresh after a change renders the rollout that change's write returned when that is still the stored
 * version (checked by a version-only read), instead of reading and parsing it again (issue 12).
 */
export class LivingCards {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly queued = new Map<string, Promise<void>>();
  /** Per rollout, the newest state a write in this process returned, until a refresh renders (or drops) it. */
  private readonly written = new Map<string, Rollout>();
  /** Per rollout, when (monotonic ms) its cards' last update finished, while that is within `minIntervalMs`. */
  private readonly lastUpdate = new Map<string, number>();
  private readonly minIntervalMs: number;
  private readonly monotonicMs: () => number;

  /**
   * `minIntervalMs` (default 0: no pacing): the shortest time between two updates of one rollout's cards
   * (BWPREP_CARD_UPDATE_INTERVAL_MS). `monotonicMs`: a monotonic clock in ms (default `performance.now`),
   * separate from `clock`, whose wall time tests pin. `metrics.cardRefreshes`: how many rollouts have a
   * refresh rendering or waiting (bwprep_card_refreshes_in_flight).
   */
  constructor(
    private readonly deps: {
      service: ChecklistService;
      platforms: Platforms;
      clock: Clock;
      logger: ErrorLogger;
      minIntervalMs?: number;
      monotonicMs?: () => number;
      metrics?: Pick<Metrics, 'cardRefreshes'>;
    },
  ) {
    this.minIntervalMs = Math.max(0, deps.minIntervalMs ?? 0);
    this.monotonicMs = deps.monotonicMs ?? (() => performance.now());
  }

  view(rollout: Rollout) {
    return buildChecklistView(this.deps.service.templateFor(rollout), rollout, this.deps.clock.now());
  }

  /**
   * Posts a fresh card to one of the rollout's conversations (default: its home) and retires the previous
   * card there. Throws what the surface throws (a PlatformError when the bot cannot post there).
   */
  async post(rolloutId: string, actor: Actor, conversation?: ConversationRef): Promise<void> {
    await this.serialize(rolloutId, async () => {
      const rollout = await this.mustGet(rolloutId);
      const target = conversation ?? rollout.conversation;
      const surface = this.deps.platforms.forConversation(target).cards;
      const ref = await surface.post(target, this.view(rollout));
      const { previous } = await this.deps.service.setCard(rolloutId, ref, actor);
      if (previous && (previous.ts !== ref.ts || previous.channel !== ref.channel)) {
        const old = this.deps.platforms.get(previous.platform)?.cards;
        try {
          await old?.retire(previous, rollout.settings.locale);
        } catch (err) {
          // The old card may have been deleted by someone; the new one stands.
          this.deps.logger.info({ err, rolloutId }, 'could not retire the previous card');
        }
      }
    });
  }

  /**
   * True when the rollout has a card in its home conversation once every post and refresh of it already
   * asked for in this process has run (a `status` whose card is still being posted counts).
   */
  async hasCard(rolloutId: string): Promise<boolean> {
    await this.chains.get(rolloutId);
    return Boolean((await this.deps.service.get(rolloutId))?.card);
  }

  /** Retires one card (a conversation that was unlinked). Best effort. */
  async retire(ref: MessageRef, locale: Locale): Promise<void> {
    try {
      await this.deps.platforms.get(ref.platform)?.cards.retire(ref, locale);
    } catch (err) {
      this.deps.logger.info({ err }, 'could not retire the card of an unlinked conversation');
    }
  }

  /**
   * Re-renders the card in place, if there is one (see the class comment). `written`: the rollout a write
   * just returned (see refreshAfterChange).
   */
  refresh(rolloutId: string, opts: { checking?: boolean } = {}, written?: Rollout): Promise<void> {
    if (written?.id === rolloutId) this.remember(written);
    const waiting = opts.checking ? undefined : this.queued.get(rolloutId);
    if (waiting) return waiting;
    const task: Promise<void> = this.serialize(rolloutId, async () => {
      // Still `queued` while it waits out the interval, so refreshes asked for meanwhile join this one.
      if (!opts.checking) await this.pace(rolloutId);
      // Stryker disable next-line ConditionalExpression: equivalent — while a task waits every refresh joins it, so `queued` holds this task when it starts
      if (this.queued.get(rolloutId) === task) this.queued.delete(rolloutId);
      try {
        await this.renderLatest(rolloutId, opts);
      } finally {
        // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent — with no interval, pace() finds nothing to wait for and drops the entry
        if (this.minIntervalMs > 0) this.lastUpdate.set(rolloutId, this.monotonicMs());
      }
    });
    // Taken out of `queued` by the task itself once it starts rendering (it always gets there: pacing cannot fail).
    if (!opts.checking) this.queued.set(rolloutId, task);
    return task;
  }

  /**
   * Refresh after a saved change: the change stands even when the platform refuses the update; returns
   * false then, so the user hears it is saved and how to get a fresh card.
   */
  async refreshAfterChange(rolloutId: string, written?: Rollout): Promise<boolean> {
    try {
      await this.refresh(rolloutId, {}, written);
      return true;
    } catch (err) {
      this.deps.logger.warn({ err, rolloutId }, 'change saved, card not updated');
      return false;
    }
  }

  private async renderLatest(rolloutId: string, opts: { checking?: boolean }): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const rollout = attempt === 0 ? await this.latest(rolloutId) : await this.deps.service.get(rolloutId);
      if (!rollout) return;
      const view = this.view(rollout);
      let failure: unknown;
      // Every linked conversation's card; one that fails does not keep the others stale.
      for (const { conversation, card } of conversationsOf(rollout)) {
        if (!card) continue;
        const platform = this.deps.platforms.get(card.platform);
        if (!platform) continue;
        try {
          await platform.cards.update(card, view, opts);
        } catch (e) {
          if (e instanceof CardGoneError) {
            this.deps.logger.info({ rolloutId, reason: e.reason }, 'the card is gone; the next status posts a new one');
            await this.deps.service.setCard(
              rolloutId,
              undefined,
              SYSTEM_ACTOR(conversation.platform === 'cli' ? 'console' : conversation.platform),
              conversation,
            );
          } else failure ??= e;
        }
      }
      if (failure) throw failure;
      // A refresh already waiting renders the newest state next: no need to check for a newer one here.
      if (this.queued.has(rolloutId)) return;
      const after = await this.deps.service.version(rolloutId);
      if (after === undefined || after === rollout.version) return;
    }
  }

  /** Waits until `minIntervalMs` has passed since this rollout's cards were last updated. */
  private async pace(rolloutId: string): Promise<void> {
    const last = this.lastUpdate.get(rolloutId);
    if (last === undefined) return;
    const wait = last + this.minIntervalMs - this.monotonicMs();
    // Stryker disable next-line EqualityOperator: equivalent — a 0 ms timer only yields one turn of the event loop
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.lastUpdate.delete(rolloutId);
  }

  private remember(rollout: Rollout): void {
    const known = this.written.get(rollout.id);
    if (!known || known.version < rollout.version) this.written.set(rollout.id, rollout);
  }

  /** The stored state to render: the one a write here returned when it is still the stored version, else read. */
  private async latest(rolloutId: string): Promise<Rollout | undefined> {
    const written = this.written.get(rolloutId);
    if (written) {
      this.written.delete(rolloutId);
      if ((await this.deps.service.version(rolloutId)) === written.version) return written;
    }
    return this.deps.service.get(rolloutId);
  }

  private async mustGet(id: string): Promise<Rollout> {
    const r = await this.deps.service.get(id);
    if (!r) throw new Error(`rollout ${id} vanished`);
    return r;
  }

  private serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    // The caller gets `next` and its rejection; the chain only orders the next refresh after this one.
    const tail = next.catch(() => undefined);
    if (!this.chains.has(key)) this.deps.metrics?.cardRefreshes.inc();
    this.chains.set(key, tail);
    // The last task of a rollout's chain removes it, so an idle rollout holds nothing here.
    tail
      .then(() => {
        if (this.chains.get(key) === tail) {
          this.chains.delete(key);
          this.deps.metrics?.cardRefreshes.dec();
        }
      })
      .catch((err: unknown) => this.deps.logger.warn({ err, rolloutId: key }, 'card refresh chain: clean-up failed'));
    return next;
  }
}
