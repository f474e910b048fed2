import { describe, expect, it } from 'vitest';
import { ALIASES, COMMAND_NAMES, parseCommand } from '../../src/commands/parse';
import { BwprepError } from '../../src/core/errors';
import { buildDigestModel } from '../../src/core/digest/model';
import { render, t } from '../../src/i18n';
import { resolveSlackMention } from '../../src/slack/context';
import { buildHelpView } from '../../src/views/text';
import { plainText } from '../../src/views/rich';
import { buildDigestView } from '../../src/views/digest';
import { makeRollout, TEMPLATE as DIGEST_TEMPLATE } from '../digest/fixtures';
import { ADMIN, makeHarness } from './harness';

const parse = (text: string) => parseCommand(text, { resolveUser: resolveSlackMention });

function fails(text: string): BwprepError {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof BwprepError) return e;
    throw e;
  }
  throw new Error(`"${text}" parsed, but should have failed`);
}

describe('Dutch command words', () => {
  it.each([
    ['heropenen 2a', 'reopen'],
    ['heropen 2a', 'reopen'],
    ['afronden 2a', 'done'],
    ['klaar 2a', 'done'],
    ['gedaan 2a', 'done'],
    ['vrijgeven 2a', 'unassign'],
    ['vervaldatum 2a geen', 'due'],
    ['instellingen', 'setup'],
    ['exporteren csv', 'export'],
    ['controle 2a', 'check'],
    ['taal en', 'lang'],
  ])('%j is %s', (text, name) => {
    expect(parse(text).name).toBe(name);
  });

  it('every alias names a real command', () => {
    for (const [alias, name] of Object.entries(ALIASES)) expect(COMMAND_NAMES, alias).toContain(name);
  });

  it('the Dutch help lists every Dutch alias beside its command', () => {
    const help = buildHelpView('nl')
      .lines.map((l) => plainText(l))
      .join('\n');
    const dutch = Object.keys(ALIASES).filter((a) => !['?', 'list', 'language'].includes(a));
    for (const alias of dutch) {
      const line = t('nl', `usage.${ALIASES[alias]}`);
      expect(line, alias).toMatch(new RegExp(`\\(ook: [^)]*\\b${alias}\\b`));
      expect(help).toContain(line);
    }
  });

  it('`lang` without a language says which languages there are', () => {
    const e = fails('lang');
    expect(e.userMessage.key).toBe('error.missing_locale');
    expect(render('nl', e.userMessage)).toBe('Welke taal? bwprep spreekt Nederlands (nl) en Engels (en). Bijvoorbeeld: taal en.');
    expect(render('en', e.userMessage)).toBe('Which language? bwprep speaks Dutch (nl) and English (en). For example: lang en.');
  });
});

describe('due <step> none on a step without a date', () => {
  it('says the step has no due date, not that it already has that date', async () => {
    const h = await makeHarness('memory');
    const id = (await h.rollout()).id;
    const r = await h.service.setDue(id, '4a', null, ADMIN);
    expect(r.changed).toBe(false);
    expect(render('en', r.notice)).toBe('Step 4a has no due date, so there is nothing to clear.');
    expect(render('nl', r.notice)).toBe('Stap 4a heeft geen deadline, dus er valt niets te wissen.');
    await h.close();
  });
});

describe('digest when no check has ever run', () => {
  const now = new Date('2026-11-25T08:00:00.000Z');
  const noCredentials = { key: 'bw.error.no_credentials' };

  it('says no check has run yet and how to enable one, never "the figures are from the last successful check"', () => {
    for (const locale of ['en', 'nl'] as const) {
      const r = makeRollout({ locale });
      const view = buildDigestView(DIGEST_TEMPLATE, buildDigestModel(DIGEST_TEMPLATE, r, { now, checkRunFailed: noCredentials }));
      const notice = view.notices.map((n) => plainText(n)).join('\n');
      expect(notice).not.toMatch(/last successful check|laatste geslaagde controle/);
      if (locale === 'en') {
        expect(notice).toContain('No check against Bitwarden has run yet, so the figures show only what people marked done.');
        expect(notice).toContain('BW_CLIENT_ID and BW_CLIENT_SECRET');
      } else {
        expect(notice).toContain('Er is nog geen controle bij Bitwarden uitgevoerd');
        expect(notice).toContain('BW_CLIENT_ID en BW_CLIENT_SECRET');
      }
    }
  });

  it('still says the figures are from the last check when there was one', () => {
    const r = makeRollout({
      locale: 'en',
      steps: { '2a': { lastCheck: { status: 'pass', summary: { key: 'notice.saved' }, evidence: {}, at: '2026-11-24T08:00:00.000Z' } } },
    });
    const view = buildDigestView(DIGEST_TEMPLATE, buildDigestModel(DIGEST_TEMPLATE, r, { now, checkRunFailed: noCredentials }));
    expect(view.notices.join('\n')).toContain('The figures are from the last successful check.');
  });
});

describe('Dutch wording the issue names', () => {
  it.each([
    ['digest.title', 'Dagelijks gereedheidsoverzicht'],
    ['setup.title', 'bwprep-instellingen'],
    ['check.3c.manual', 'Factureringssynchronisatie'],
    ['setup.digest_on', 'het dagelijkse overzicht'],
    ['usage.digest', 'het dagelijkse overzicht'],
  ])('%s says %j', (key, words) => {
    expect(t('nl', key, { date: '25 november 2026' })).toContain(words);
  });
});
