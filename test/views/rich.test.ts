import { describe, expect, it } from 'vitest';
import { renderChecklistText } from '../../src/cli/text-renderer';
import { renderRich, tr } from '../../src/i18n';
import { checklistBlocks } from '../../src/slack/blocks/checklist';
import { mrkdwn } from '../../src/slack/blocks/mrkdwn';
import { buildChecklistView } from '../../src/views/checklist';
import { parseTagged, plainText } from '../../src/views/rich';
import { buildReport, reportMarkdown } from '../../src/views/report';
import { ADMIN, makeHarness, TEMPLATE } from '../core/harness';
import { blockText } from '../slack/harness';

const NOTE = 'fixed *412* _items_ ~old~ `bw import` & <all> ✅ done';

describe('structured text', () => {
  it('parses our tags and nothing else: <step> in a usage line is text', () => {
    expect(parseTagged('<cmd>done <step> [note]</cmd>: mark <b>it</b>')).toEqual([{ command: 'done <step> [note]' }, ': mark ', { strong: ['it'] }]);
    // An unclosed tag loses its marker, never its words.
    expect(plainText(parseTagged('<b>Readiness: 5'))).toBe('Readiness: 5');
  });

  it('substitutes variables after parsing, so a variable can never open a tag', () => {
    const r = tr('en', 'card.skipped_reason', { reason: '<b>not</b> *needed*' });
    expect(plainText(r)).toBe('skipped: <b>not</b> *needed*');
    expect(r.some((x) => typeof x === 'object')).toBe(false);
  });

  it('people, dates and policy names are typed, rendered per reader', () => {
    expect(renderRich('en', { key: 'notice.assigned', vars: { step: '2a', owner: 'slack:U0BOB' } })).toContainEqual({ user: 'slack:U0BOB' });
    expect(plainText(renderRich('nl', { key: 'check.2a.fail', vars: { count: 1, total: 3, policies: '3' } }))).toContain('Eén organisatie (3)');
    expect(plainText(renderRich('en', { key: 'check.2a.fail', vars: { count: 1, total: 3, policies: '3' } }))).toContain('Single organization (3)');
    // A summary stored by release 0.1.0, with the names in both languages.
    const legacy = { key: 'check.2a.fail', vars: { count: 1, total: 3, policies_en: 'Single organization (3)', policies_nl: 'Eén organisatie (3)' } };
    expect(plainText(renderRich('nl', legacy))).toContain('Eén organisatie (3)');
  });

  it("a nested message (an endpoint error's reason) is stored once and read in either language", () => {
    const stored = {
      key: 'check.error_endpoint',
      vars: { endpoint: 'GET /public/members', reason: 'bw.error.server', 'reason.host': 'vault.example.test', 'reason.status': 502 },
    };
    const en = plainText(renderRich('en', stored));
    const nl = plainText(renderRich('nl', stored));
    expect(en).toContain('Not checked: GET /public/members failed.');
    expect(en).toContain('(HTTP 502)');
    expect(nl).toContain('Niet gecontroleerd: GET /public/members mislukte.');
    expect(nl).toContain('502');
    expect(`${en}${nl}`).not.toContain('{{');
  });

  it("mrkdwn escapes &, <, > exactly once and never formats a user's markers", () => {
    const out = mrkdwn([{ strong: ['Note:'] }, ' ', NOTE]);
    expect(out.startsWith('*Note:* ')).toBe(true);
    expect(out).toContain('&amp; &lt;all&gt;');
    expect(out).not.toContain('&amp;amp;');
    // Each marker of the user's text is followed by a word joiner, so Slack shows it instead of formatting.
    for (const m of ['*', '_', '~', '`']) expect(out).toContain(`${m}\u2060`);
    expect(out.replace(/\u2060/g, '')).toContain('fixed *412* _items_ ~old~ `bw import`');
    expect(out).toContain('✅ done');
  });
});

describe('a note with markup characters and an emoji', () => {
  it('shows verbatim in the console and correctly escaped on the Slack card', async () => {
    const h = await makeHarness('memory');
    try {
      const r = await h.rollout();
      await h.service.markDone(r.id, '4a', ADMIN, NOTE);
      const rollout = (await h.service.get(r.id))!;
      const view = buildChecklistView(TEMPLATE, rollout, h.clock.now(), 'en');

      const console = renderChecklistText(view, { width: 200 });
      expect(console).toContain(`“${NOTE}”`);

      const card = blockText(checklistBlocks(view));
      const shown = card.replace(/\u2060/g, '');
      expect(shown).toContain('“fixed *412* _items_ ~old~ `bw import` &amp; &lt;all&gt; ✅ done”');
      expect(card).not.toContain('&amp;amp;');
      expect(card).not.toContain('<all>');

      // The Markdown export keeps the note in its own column, escaped for Markdown, never lost.
      const md = reportMarkdown(buildReport(TEMPLATE, rollout, h.clock.now(), 'en'), 'Europe/Amsterdam');
      const row = md.split('\n').find((l) => l.startsWith('| 4a |'))!;
      expect(row).toContain('fixed \\*412\\* \\_items\\_ ~old~ \\`bw import\\` & \\<all\\> ✅ done');
    } finally {
      await h.close();
    }
  });
});
