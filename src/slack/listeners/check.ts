import { randomUUID } from 'node:crypto';
import type { webApi } from '@slack/bolt';
import type { Actor, Locale, Rollout } from '../../core/checklist/model';
import { render, t } from '../../i18n';
import { buildCheckReportView } from '../../views/check-report';
import type { SlackDeps } from '../app';
import { checkReportBlocks } from '../blocks/check-report';
import { slackUser } from '../blocks/limits';
import { textMessage } from '../blocks/messages';
import { getProfile, slackActor } from '../context';
import { describeError } from '../errors';
import type { Delegate } from './command';
import type { StepAction } from './actions';

interface CheckRequest {
  client: webApi.WebClient;
  rollout: Rollout;
  actor: Actor;
  stepId?: string;
  /** The requester's language, for "already running" and errors. */
  locale: Locale;
  /** Ephemeral to the requester. */
  tell(message: { text: string; blocks?: unknown[] }): Promise<void>;
}

/**
 * `/bwprep check [step]` and the card's Check button. The ack has already gone out; this shows
 * "checking…" on the card, runs the checks (one run per rollout), updates the card and posts the report:
 * in the channel for a full run, to the requester for one step, in the rollout's language. Owners of steps
 * that now fail are told in a DM what is wrong. A failed run changes no step and says what to do.
 */
export async function runCheck(deps: SlackDeps, req: CheckRequest): Promise<void> {
  const verification = deps.verification;
  if (!verification) return;
  const { client, rollout } = req;
  // One run per rollout: in this process (the service joins concurrent calls) and across replicas (a lease).
  const holder = randomUUID();
  const leaseKey = `check:${rollout.id}`;
  if (verification.isRunning(rollout.id) || !(await deps.store.leases.acquire(leaseKey, holder, CHECK_LEASE_MS))) {
    await req.tell(textMessage(`⏳ ${t(req.locale, 'check_report.in_progress')}`));
    return;
  }
  // Renewed while the run lasts, so the lease can be short: a killed process blocks new runs for at most CHECK_LEASE_MS.
  const renew = setInterval(() => {
    deps.store.leases.acquire(leaseKey, holder, CHECK_LEASE_MS).catch((err: unknown) => deps.logger.warn({ err, rolloutId: rollout.id }, 'could not renew the check lease'));
  }, CHECK_LEASE_MS / 3);
  renew.unref();
  const end = deps.metrics.handlerSeconds.startTimer({ kind: 'check' });
  const hasCard = Boolean(rollout.card);
  // "checking…" on the card is a courtesy: if Slack refuses it, the run still goes ahead.
  if (hasCard) await deps.cards.refresh(client, rollout.id, { checking: true }).catch((err) => deps.logger.info({ err }, 'could not show checking… on the card'));
  else await req.tell(textMessage(`⏳ ${t(req.locale, 'check_report.started')}`));
  try {
    const run = await verification.run(rollout, { ...(req.stepId ? { stepIds: [req.stepId] } : {}), actor: req.actor });
    for (const r of run.results) deps.metrics.checks.inc({ step: r.stepId, status: r.record.status });
    // The results are recorded; a card Slack will not update now catches up on the next change or status.
    await deps.cards.refreshAfterChange(client, rollout.id);
    const locale = run.rollout.settings.locale;
    const report = checkReportBlocks(buildCheckReportView(deps.service.template, run.results, run.transitions, locale, { single: Boolean(req.stepId) }));
    if (req.stepId) await req.tell(report);
    else await client.chat.postMessage({ channel: rollout.conversation.channel, text: report.text, blocks: report.blocks, unfurl_links: false });
    await tellOwnersOfDrift(deps, client, run.rollout, run.transitions.filter((x) => x.to === 'failing').map((x) => x.stepId));
  } catch (e) {
    if (hasCard) await deps.cards.refresh(client, rollout.id).catch(() => undefined);
    const log = deps.logger.child({ rolloutId: rollout.id, step: req.stepId });
    await req.tell(textMessage(`${describeError(e, req.locale, log, deps.metrics)}\n${t(req.locale, 'check_report.failed')}`));
  } finally {
    clearInterval(renew);
    await deps.store.leases.release(leaseKey, holder).catch(() => undefined);
    end();
  }
}

/**
 * How long a check run's lease lasts without renewal (it is renewed every third of this while the run is
 * alive). Bounds how long a run cut off by a crash blocks the next one; was 5 minutes without renewal.
 */
const CHECK_LEASE_MS = 15_000;

/** A failing check on a claimed or verified step: its owner hears what is wrong, in their own language. */
async function tellOwnersOfDrift(deps: SlackDeps, client: webApi.WebClient, rollout: Rollout, stepIds: string[]): Promise<void> {
  for (const stepId of stepIds) {
    const rec = rollout.steps[stepId];
    const owner = rec?.owner;
    if (!owner?.startsWith('slack:') || !rec?.lastCheck) continue;
    const userId = owner.slice('slack:'.length);
    try {
      const profile = await getProfile(client, deps.store.kv, userId);
      const locale = profile.locale ?? rollout.settings.locale;
      const title = deps.service.template.steps.find((s) => s.id === stepId)?.title[locale] ?? stepId;
      const text = t(locale, 'check_report.owner_failing', {
        step: stepId,
        title,
        channel: `<#${rollout.conversation.channel}>`,
        summary: render(locale, rec.lastCheck.summary, slackUser),
      });
      await client.chat.postMessage({ channel: userId, ...textMessage(`❌ ${text}`) });
    } catch (err) {
      deps.logger.warn({ err, stepId, rolloutId: rollout.id }, 'could not tell the owner about a failing check');
    }
  }
}

export function checkDelegate(deps: SlackDeps): Delegate {
  return async ({ client, cmd, rollout, actor, locale, respond }) => {
    if (cmd.name !== 'check') return;
    await runCheck(deps, {
      client,
      rollout,
      actor,
      ...(cmd.step ? { stepId: deps.service.step(cmd.step).id } : {}),
      locale,
      tell: async (m) => {
        await respond({ response_type: 'ephemeral', text: m.text, ...(m.blocks ? { blocks: m.blocks as never } : {}) });
      },
    });
  };
}

/** The card's Check button: a one-step run whose report goes to the clicker. */
export const runCheckAction: StepAction = async ({ client, body, rollout, stepId, profile, locale, tell }, deps) => {
  await runCheck(deps, {
    client,
    rollout,
    actor: slackActor(body.user.id, profile),
    stepId,
    locale,
    tell: async (m) => {
      if (!m.blocks) return tell(m.text);
      // A report with blocks: ephemeral in the channel, or a DM from the App Home.
      if (body.container?.type === 'view' || !body.response_url) {
        await client.chat.postMessage({ channel: body.user.id, text: m.text, blocks: m.blocks as never });
      } else {
        await client.chat.postEphemeral({ channel: rollout.conversation.channel, user: body.user.id, text: m.text, blocks: m.blocks as never }).catch(() => tell(m.text));
      }
    },
  });
};
