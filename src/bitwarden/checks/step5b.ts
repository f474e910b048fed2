import { MEMBER_STATUS } from '../schemas';
import type { StepCheck } from './types';
import { evidence, memberLabel, outcome, pct } from './util';

const DAY_MS = 86_400_000;

/**
 * 5b: share of confirmed members who used a browser extension in the last 30 days: an event of
 * EXTENSION_USE_EVENT_TYPES (login, the client-collected types of the server's CollectController, vault
 * changes; see schemas.ts) from an extension device (2,3,4,5,19,20). ≥ threshold pass, > 0 warn, 0 fail.
 */
export const step5b: StepCheck = {
  stepId: '5b',
  needs: () => ['members', 'events'],
  async run(ctx) {
    const [members, events] = await Promise.all([ctx.snap.members(), ctx.snap.events()]);
    const since = new Date(ctx.now.getTime() - 30 * DAY_MS).toISOString();
    const confirmed = members.filter((m) => m.status === MEMBER_STATUS.confirmed);
    const uses = (m: (typeof confirmed)[number]) => Boolean(m.userId && (events.extension[m.userId] ?? '') >= since);
    const using = confirmed.filter(uses);
    const without = confirmed.filter((m) => !uses(m));
    const share = pct(using.length, confirmed.length);
    const target = ctx.settings.thresholds.extensionPassPct;
    const ev = evidence(ctx, {
      endpoint: 'GET /public/members, GET /public/events',
      counts: {
        confirmedMembers: confirmed.length,
        withExtension: using.length,
        pct: share,
        targetPct: target,
        newEvents: events.events.length,
        eventPages: events.pages,
        overlapDuplicates: events.duplicates,
      },
      offending: without.map(memberLabel),
      detail: { window: { start: since, end: events.end }, incremental: !events.firstRun },
    });
    const vars = { with: using.length, confirmed: confirmed.length, pct: share, target };
    if (using.length === 0) return outcome('fail', 'check.5b.fail', vars, ev);
    if (confirmed.length > 0 && (using.length / confirmed.length) * 100 >= target) return outcome('pass', 'check.5b.pass', vars, ev);
    return outcome('warn', 'check.5b.warn', vars, ev);
  },
};
