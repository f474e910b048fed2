import { randomUUID } from 'node:crypto';
import type { Actor, Rollout } from '../core/checklist/model';
import type { ChecklistService } from '../core/checklist/service';
import type { LeaseStore } from '../core/ports';
import type { VerificationRun, VerificationService } from '../core/verification/service';
import { renderRich, tr } from '../i18n';
import type { Metrics } from '../metrics';
import { buildCheckReportView } from '../views/check-report';
import type { LivingCards } from './cards';
import { describeError, type ErrorLogger } from './errors';
import type { Platforms } from './platforms';
import type { Requester } from './ports';

/**
 * How long a check run's lease lasts without renewal (it is renewed every third of this while the run is
 * alive). Bounds how long a run cut off by a crash blocks the next one.
 */
export const CHECK_LEASE_MS = 15_000;

/**
 * `check [step]` and the card's Check button, on every platform: shows "checking…" on the card, runs the
 * checks (one run per rollout: joined in this process, a store lease across replicas), updates the card and
 * reports — in the conversation for a full run, to the requester for one step, in the rollout's language.
 * Owners of steps that now fail hear what is wrong in a DM, in their own language. A run that fails as a
 * whole changes no step and says what to do.
 */
export class CheckRunner {
  constructor(
    private readonly deps: {
      service: ChecklistService;
      verification: VerificationService;
      leases: LeaseStore;
      cards: LivingCards;
      platforms: Platforms;
      logger: ErrorLogger;
      metrics?: Metrics;
    },
  ) {}

  async run(rollout: Rollout, requester: Requester, stepId?: string): Promise<void> {
    const { verification, leases, cards, service } = this.deps;
    const locale = requester.locale ?? rollout.settings.locale;
    const holder = randomUUID();
    const leaseKey = `check:${rollout.id}`;
    if (verification.isRunning(rollout.id) || !(await leases.acquire(leaseKey, holder, CHECK_LEASE_MS))) {
      await requester.reply({ kind: 'notice', tone: 'wait', lines: [tr(locale, 'check_report.in_progress')] });
      return;
    }
    const end = this.deps.metrics?.handlerSeconds.startTimer({ kind: 'check' });
    // Renewed while the run lasts, so the lease can be short: a killed process blocks new runs for at most CHECK_LEASE_MS.
    const renew = setInterval(() => {
      leases
        .acquire(leaseKey, holder, CHECK_LEASE_MS)
        .catch((err: unknown) => this.deps.logger.warn({ err, rolloutId: rollout.id }, 'could not renew the check lease'));
    }, CHECK_LEASE_MS / 3);
    renew.unref();
    // After a card post still under way here (`status` typed just before `check`), so "checking…" goes on it.
    const hasCard = await cards.hasCard(rollout.id);
    // "checking…" on the card is a courtesy: if the platform refuses it, the run still goes ahead.
    if (hasCard) await cards.refresh(rollout.id, { checking: true }).catch((err) => this.deps.logger.info({ err }, 'could not show checking… on the card'));
    else await requester.reply({ kind: 'notice', tone: 'wait', lines: [tr(locale, 'check_report.started')] });
    try {
      const run = await verification.run(rollout, { ...(stepId ? { stepIds: [stepId] } : {}), actor: requester.actor });
      for (const r of run.results) this.deps.metrics?.checks.inc({ step: r.stepId, status: r.record.status });
      // The results are recorded; a card the platform will not update now catches up on the next change.
      await cards.refreshAfterChange(rollout.id);
      // One step's report goes to the requester alone (their language); a full run to the conversation.
      const report = (l: typeof locale) => buildCheckReportView(service.templateFor(run.rollout), run.results, run.transitions, l, { single: Boolean(stepId) });
      if (stepId) await requester.reply({ kind: 'check_report', view: report(requester.locale ?? run.rollout.settings.locale) });
      else await this.deps.platforms.forConversation(rollout.conversation).publisher.postCheckReport(rollout.conversation, report(run.rollout.settings.locale));
      await this.tellOwnersOfDrift(run);
    } catch (e) {
      if (hasCard) await cards.refresh(rollout.id).catch((err) => this.deps.logger.info({ err }, 'could not restore the card after a failed run'));
      const log = this.deps.logger;
      const lines = describeError(e, locale, log, this.deps.metrics);
      await requester.reply({ kind: 'notice', tone: 'warn', lines: [...lines, tr(locale, 'check_report.failed')] });
    } finally {
      clearInterval(renew);
      await leases.release(leaseKey, holder).catch((err) => this.deps.logger.warn({ err, rolloutId: rollout.id }, 'could not release the check lease'));
      end?.();
    }
  }

  /** Runs the checks for the scheduler (before a digest): no card overlay, no report, drift DMs still go out. */
  async runScheduled(rollout: Rollout, actor: Actor): Promise<void> {
    const run = await this.deps.verification.run(rollout, { actor });
    for (const r of run.results) this.deps.metrics?.checks.inc({ step: r.stepId, status: r.record.status });
    await this.deps.cards.refreshAfterChange(rollout.id);
    await this.tellOwnersOfDrift(run);
  }

  /** A failing check on a claimed or verified step: its owner hears what is wrong, in their own language. */
  private async tellOwnersOfDrift(run: VerificationRun): Promise<void> {
    const rollout = run.rollout;
    for (const { stepId } of run.transitions.filter((x) => x.to === 'failing')) {
      const rec = rollout.steps[stepId];
      const owner = rec?.owner;
      if (!owner || !rec.lastCheck) continue;
      const lastCheck = rec.lastCheck;
      try {
        await this.deps.platforms.notify(owner, rollout.settings.locale, (locale) => {
          const title = this.deps.service.templateFor(rollout).steps.find((s) => s.id === stepId)?.title[locale] ?? stepId;
          const line = tr(locale, 'check_report.owner_failing', {
            step: stepId,
            title,
            channel: { conversation: rollout.conversation },
            summary: renderRich(locale, lastCheck.summary),
          });
          return [['❌ ', ...line]];
        });
      } catch (err) {
        this.deps.logger.warn({ err, stepId, rolloutId: rollout.id }, 'could not tell the owner about a failing check');
      }
    }
  }
}
