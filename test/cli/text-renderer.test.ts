import { describe, expect, it } from 'vitest';
import {
  consoleUser,
  displayWidth,
  plain,
  renderChecklistText,
  renderHelpText,
  renderMineText,
  renderNoticeText,
  truncate,
  wrap,
} from '../../src/cli/text-renderer';
import type { Rollout } from '../../src/core/checklist/model';
import { buildChecklistView } from '../../src/views/checklist';
import { buildHelpView, buildMineView } from '../../src/views/text';
import { ADMIN, makeHarness, TEMPLATE } from '../core/harness';

const NOW = new Date('2026-11-25T09:00:00.000Z');

async function rollout(): Promise<Rollout> {
  const h = await makeHarness('memory', { hosting: 'cloud-eu' });
  const id = (await h.rollout()).id;
  await h.service.assign(id, '2a', 'cli:alice', ADMIN);
  await h.service.assign(id, '4d', 'cli:bartholomew.van-der-linden', ADMIN);
  await h.service.setDue(id, '2a', '2026-11-20', ADMIN);
  await h.service.setDue(id, '4b', '2026-12-20', ADMIN);
  await h.service.markDone(id, '4a', { user: 'cli:alice', surface: 'console', platformAdmin: true }, 'imported *412* items with `bw import`');
  await h.service.skip(id, '4e', 'built-in roles only', ADMIN);
  await h.service.recordChecks(
    id,
    [{ stepId: '2b', record: { status: 'fail', summary: { key: 'card.never_checked' }, evidence: {}, at: '2026-11-25T08:00:00.000Z' } }],
    ADMIN,
  );
  const r = (await h.service.get(id))!;
  await h.close();
  return r;
}

const stepLine = (text: string, id: string) => text.split('\n').find((l) => new RegExp(`^ {2}\\S+\\s+${id}\\s`).test(l)) ?? '';

describe('renderChecklistText', () => {
  it('has a header, the readiness line without markup, and a progress bar; a user note shows verbatim', async () => {
    const text = renderChecklistText(buildChecklistView(TEMPLATE, await rollout(), NOW, 'en'));
    const lines = text.split('\n');
    expect(lines[0]).toBe('Bitwarden rollout checklist · #bitwarden-rollout');
    expect(lines[1]).toMatch(/^=+$/);
    expect(lines[2]).toBe('Bitwarden cloud (EU) · language: English');
    expect(lines[3]).toBe('Readiness: 1 of 9 steps done (11%) · 4 h of 4.5 h left (+ 1 step not estimated)');
    expect(lines[4]).toBe('[##------------------] 11%');
    // No markup of ours anywhere; a person's own asterisks and backticks stay exactly as typed.
    expect(text.replace('“imported *412* items with `bw import`”', '')).not.toMatch(/[*`]/);
    expect(text).toContain('“imported *412* items with `bw import`”');
    expect(text.trimEnd().split('\n').at(-1)).toBe('Updated 25 Nov 2026, 10:00 · help lists every command');
  });

  it('aligns owner, due date and state in columns', async () => {
    const text = renderChecklistText(buildChecklistView(TEMPLATE, await rollout(), NOW, 'en'), { width: 100 });
    expect(text).toMatch(/^ {2}Step +Title +Owner +Due +State$/m);
    const a = stepLine(text, '2a');
    const d = stepLine(text, '4d');
    const b = stepLine(text, '4b');
    expect(a).toMatch(/^ {2}⏰ 2a {2}Review the policy configuration\s+@alice\s+20 Nov 2026\s+Open$/);
    expect(a.indexOf('@alice')).toBe(d.indexOf('@bartholomew'));
    expect(a.indexOf('20 Nov 2026')).toBe(b.indexOf('20 Dec 2026'));
    expect(a.indexOf('Open')).toBe(b.indexOf('Open'));
    expect(stepLine(text, '4a')).toMatch(/Done$/);
  });

  it('puts the facts under the step: overdue, done by, note, skip reason, hosting, last check', async () => {
    const text = renderChecklistText(buildChecklistView(TEMPLATE, await rollout(), NOW, 'en'));
    const after = (id: string) => text.split('\n').slice(text.split('\n').indexOf(stepLine(text, id)) + 1);
    expect(after('2a')[0]?.trim()).toBe('overdue since 20 Nov 2026');
    expect(after('2b')[0]?.trim()).toBe('Turn on account recovery (master password reset)');
    expect(after('2b')[1]?.trim()).toBe('last check 25 Nov 2026, 09:00: Fail — not checked yet');
    expect(
      after('4a')
        .slice(0, 2)
        .map((l) => l.trim()),
    ).toEqual(['“imported *412* items with `bw import`”', 'done by @alice']);
    expect(after('4e')[0]?.trim()).toBe('skipped: built-in roles only');
    expect(after('3a')[0]?.trim()).toBe('does not apply to Bitwarden cloud (EU)');
    expect(stepLine(text, '3a')).toMatch(/Download the production licence$/);
    expect(text).toContain('⬜ Open · ☑️ Done · ✅ Verified · ❌ Failing · ➖ Not applicable · ⏰ Overdue');
    expect(stepLine(text, '6')).toMatch(/Onboard everyone/);
  });

  it('fits the width it is given, cutting titles with an ellipsis', async () => {
    const r = await rollout();
    for (const [locale, width] of [
      ['en', 100],
      ['nl', 100],
      ['en', 80],
      ['nl', 72],
    ] as const) {
      const text = renderChecklistText(buildChecklistView(TEMPLATE, r, NOW, locale), { width });
      const over = text.split('\n').filter((l) => displayWidth(l) > width);
      expect(over, `${locale} at ${width}`).toEqual([]);
    }
    expect(renderChecklistText(buildChecklistView(TEMPLATE, r, NOW, 'en'), { width: 80 })).toContain('…');
  });

  it('renders in Dutch', async () => {
    const text = renderChecklistText(buildChecklistView(TEMPLATE, await rollout(), NOW, 'nl'), { width: 120 });
    expect(text).toMatch(/^ {2}Stap +Titel +Eigenaar +Deadline +Status\b/m);
    expect(text).toContain('Gereedheid: 1 van 9 stappen afgerond (11%) · nog 4 uur van 4,5 uur (+ 1 stap niet geschat)');
    expect(text).toContain('Fase 3: Productielicentie (zelf gehost)');
    expect(text).toContain('te laat sinds 20 nov 2026');
    expect(text).toContain('afgerond door @alice');
    expect(stepLine(text, '3a')).toMatch(/Niet van toepassing$/);
  });

  it('can show users another way', async () => {
    const text = renderChecklistText(buildChecklistView(TEMPLATE, await rollout(), NOW, 'en'), { formatUser: (k) => `<${k}>` });
    expect(stepLine(text, '2a')).toContain('<cli:alice>');
  });
});

describe('help, mine and notices', () => {
  it('help: every command bare, without /bwprep or backticks', () => {
    const text = renderHelpText(buildHelpView('en'), ['quit: leave']);
    expect(text.split('\n')[0]).toBe('bwprep: your Bitwarden trial-to-production checklist');
    expect(text).toContain('\n  assign <step> @user: give a step an owner\n');
    expect(text).toContain('\n  quit: leave\n');
    expect(text).not.toMatch(/[`*]|\/bwprep/);
  });

  it('mine: the steps someone owns, or the hint', async () => {
    const r = await rollout();
    expect(renderMineText(buildMineView(TEMPLATE, r, 'cli:alice', 'en'))).toBe(
      ['Your steps in this rollout', '  ⬜ 2a Review the policy configuration · Open · due 20 Nov 2026'].join('\n'),
    );
    expect(renderMineText(buildMineView(TEMPLATE, r, 'cli:nobody', 'nl'))).toMatch(/^Jouw stappen in deze uitrol\n {2}Je bent hier nergens eigenaar van\./);
  });

  it('notice: localized, users as @name, with the usage on its own line', () => {
    expect(renderNoticeText('en', { key: 'notice.assigned', vars: { step: '2a', owner: 'cli:alice' } })).toBe('✔ Step 2a is now owned by @alice.');
    expect(renderNoticeText('nl', { key: 'notice.assigned', vars: { step: '2a', owner: 'cli:alice' } }, { kind: 'info' })).toBe(
      'ℹ @alice is nu eigenaar van stap 2a.',
    );
    // The usage line is on its own line; wider than 80 columns, it wraps with an indent.
    expect(renderNoticeText('nl', { key: 'error.missing_step' }, { kind: 'error', usage: { key: 'usage.done' } })).toBe(
      '⚠ Welke stap? Geef een stapnummer zoals 2a.\n  Gebruik: done <stap> [notitie] (ook: klaar, afronden, afgerond, gedaan): rond\n  een stap af',
    );
  });
});

describe('text helpers', () => {
  it('plain renders structured text for a terminal: no markup, bare commands, links as label (url), people as @name', () => {
    expect(
      plain([{ strong: ['Readiness:'] }, ' ', { command: 'help' }, ' ', { link: 'https://bitwarden.com/help/', label: ['Guide'] }, ' ', { user: 'cli:user' }]),
    ).toBe('Readiness: help Guide (https://bitwarden.com/help/) @user');
    // Text is never parsed: a string with mrkdwn-looking characters is shown as it is.
    expect(plain('*412* `x` <y>')).toBe('*412* `x` <y>');
  });

  it('measures emoji as two cells and variation selectors as none', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('✅')).toBe(2);
    expect(displayWidth('☑️')).toBe(2);
    expect(displayWidth('⬜ 2a')).toBe(5);
    expect(displayWidth('geüpload')).toBe(8);
  });

  it('truncate and wrap keep to the width', () => {
    expect(truncate('Upgrade the trial organization', 12)).toBe('Upgrade the…');
    expect(truncate('short', 12)).toBe('short');
    expect(wrap('one two three four five', 9)).toEqual(['one two', 'three', 'four five']);
    expect(wrap('', 10)).toEqual(['']);
    // A word longer than a line is split, never cut: nothing a person wrote is lost.
    expect(wrap('averyveryverylongword', 8)).toEqual(['averyver', 'yverylon', 'gword']);
  });

  it('consoleUser shows console users as @name and others by their key', () => {
    expect(consoleUser('cli:alice')).toBe('@alice');
    expect(consoleUser('slack:U0123ABC')).toBe('slack:U0123ABC');
  });
});
