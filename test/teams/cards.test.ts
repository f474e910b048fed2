import { describe, expect, it } from 'vitest';
import { buildChecklistView } from '../../src/views/checklist';
import { checklistCard, retiredCard, teamsMarkdown } from '../../src/teams/render';
import { ADMIN, makeHarness, OWNER, TEMPLATE } from '../core/harness';
import { expectValidCard } from './adaptive-cards';

/** Teams renders the people picker's `choices.data` on 1.5 cards; the library dates it to 1.6 (see adaptive-cards.test.ts). */
const PEOPLE_PICKER = /^Property "choices\.data" is supported in version 1\.6/;

async function rollouts() {
  const h = await makeHarness('memory', { hosting: 'self-hosted' });
  const empty = await h.rollout();
  const id = empty.id;
  await h.service.assign(id, '2a', OWNER.user, ADMIN);
  await h.service.markDone(id, '2a', OWNER, 'all *three* policies <on> & enforced ✅');
  await h.service.skip(id, '4e', 'built-in roles only', ADMIN);
  await h.service.setDue(id, '2b', '2026-11-20', ADMIN);
  await h.service.recordChecks(
    id,
    [
      {
        stepId: '4c',
        record: { status: 'fail', summary: { key: 'check.4c.fail_groups', vars: { count: 1, items: 'IT' } }, evidence: {}, at: '2026-11-25T08:00:00.000Z' },
      },
    ],
    ADMIN,
  );
  const full = (await h.service.get(id))!;
  await h.close();
  return { empty, full, now: h.clock.now() };
}

describe('the living checklist as an Adaptive Card', () => {
  it('parses with Microsoft\'s adaptivecards package, in both languages, empty and full, with and without "checking…"', async () => {
    const { empty, full, now } = await rollouts();
    for (const locale of ['en', 'nl'] as const)
      for (const r of [empty, full])
        for (const checking of [false, true]) {
          const view = buildChecklistView(TEMPLATE, r, now, locale);
          const card = checklistCard(view, { personal: false, checking, people: [{ key: OWNER.user, name: 'Olga' }] });
          expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
          expectValidCard(card.content, { allow: [PEOPLE_PICKER] });
        }
    expectValidCard(retiredCard('nl').content);
  });

  it('every step has its buttons as Action.Execute with the shared verbs, and the owner picker has choices', async () => {
    const { full, now } = await rollouts();
    const json = JSON.stringify(checklistCard(buildChecklistView(TEMPLATE, full, now, 'en'), { personal: false }).content);
    for (const verb of ['mark_done', 'reopen_step', 'run_check', 'assign_owner']) expect(json).toContain(`"verb":"${verb}"`);
    expect(json).toContain('graph.microsoft.com/users?scope=currentContext');
    expect(json).not.toContain('"choices":[]');
    // The user's note is escaped for Teams Markdown, never read as formatting.
    expect(json).toContain('all \\\\*three\\\\* policies \\\\<on\\\\> & enforced ✅');
  });

  it('commands are spelled @bwprep in a channel and bare in a personal chat', () => {
    expect(teamsMarkdown([{ command: 'status' }], { personal: false })).toBe('`@bwprep status`');
    expect(teamsMarkdown([{ command: 'status' }], { personal: true })).toBe('`status`');
  });
});
