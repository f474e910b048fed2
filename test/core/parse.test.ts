import { describe, expect, it } from 'vitest';
import { type Command, parseCommand } from '../../src/commands/parse';
import { resolveSlackMention } from '../../src/slack/context';
import { BwprepError } from '../../src/core/errors';
import { ADMIN, makeHarness, rejection } from './harness';

const ctx = { resolveUser: resolveSlackMention };
const parse = (text: string): Command => parseCommand(text, ctx);

function fails(text: string): BwprepError {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof BwprepError) return e;
    throw e;
  }
  throw new Error(`"${text}" parsed, but should have failed`);
}

describe('parseCommand', () => {
  it.each<[string, Command]>([
    ['', { name: 'status' }],
    ['   ', { name: 'status' }],
    ['help', { name: 'help' }],
    ['status', { name: 'status' }],
    ['mine', { name: 'mine' }],
    ['assign 2a <@U0123ABC|bob>', { name: 'assign', step: '2a', user: 'slack:U0123ABC' }],
    ['assign 2a <@U0123ABC>', { name: 'assign', step: '2a', user: 'slack:U0123ABC' }],
    ['assign 4d <@W0ENTERPRISE|Eva>', { name: 'assign', step: '4d', user: 'slack:W0ENTERPRISE' }],
    ['unassign 2a', { name: 'unassign', step: '2a' }],
    ['done 2a', { name: 'done', step: '2a' }],
    ['done 4a imported 412 items, trial data wiped', { name: 'done', step: '4a', note: 'imported 412 items, trial data wiped' }],
    ['reopen 2b', { name: 'reopen', step: '2b' }],
    ['skip 4e we only use the built-in roles', { name: 'skip', step: '4e', reason: 'we only use the built-in roles' }],
    ['due 2a 2026-12-01', { name: 'due', step: '2a', date: '2026-12-01' }],
    ['due 2a none', { name: 'due', step: '2a', date: null }],
    ['due 2a geen', { name: 'due', step: '2a', date: null }],
    ['check', { name: 'check' }],
    ['check 2a', { name: 'check', step: '2a' }],
    ['digest', { name: 'digest' }],
    ['setup', { name: 'setup' }],
    ['lang nl', { name: 'lang', locale: 'nl' }],
    ['lang EN', { name: 'lang', locale: 'en' }],
    ['export', { name: 'export', format: 'md' }],
    ['export CSV', { name: 'export', format: 'csv' }],
    ['export json', { name: 'export', format: 'json' }],
  ])('%j', (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it('reads command names in any case and tolerates extra and non-breaking spaces', () => {
    expect(parse('  DONE   2A  ')).toEqual({ name: 'done', step: '2A' });
    expect(parse('Assign\u00a02a\u00a0<@U0123ABC|bob>')).toEqual({ name: 'assign', step: '2a', user: 'slack:U0123ABC' });
  });

  it('keeps the step id as typed; the service resolves it case-insensitively', () => {
    expect(parse('reopen 4E')).toEqual({ name: 'reopen', step: '4E' });
  });

  it('understands the Dutch aliases', () => {
    expect(parse('klaar 2a')).toEqual({ name: 'done', step: '2a' });
    expect(parse('taal en')).toEqual({ name: 'lang', locale: 'en' });
    expect(parse('overslaan 4e niet nodig')).toEqual({ name: 'skip', step: '4e', reason: 'niet nodig' });
    expect(parse('hulp')).toEqual({ name: 'help' });
  });

  it('caps notes and reasons at 500 characters', () => {
    const long = 'x'.repeat(900);
    expect((parse(`done 2a ${long}`) as { note: string }).note).toHaveLength(500);
    expect((parse(`skip 2a ${long}`) as { reason: string }).reason).toHaveLength(500);
  });

  it.each<[string, string, string, string | undefined]>([
    ['frobnicate 2a', 'unknown_command', 'error.unknown_command', 'usage.help'],
    ['assign', 'bad_usage', 'error.missing_step', 'usage.assign'],
    ['assign 2a', 'bad_usage', 'error.missing_user', 'usage.assign'],
    ['assign 2a bob', 'bad_user', 'error.bad_user', 'usage.assign'],
    ['assign 2a @bob', 'bad_user', 'error.bad_user', 'usage.assign'],
    ['assign 2a <#C0123|general>', 'bad_user', 'error.bad_user', 'usage.assign'],
    ['unassign', 'bad_usage', 'error.missing_step', 'usage.unassign'],
    ['done', 'bad_usage', 'error.missing_step', 'usage.done'],
    ['reopen', 'bad_usage', 'error.missing_step', 'usage.reopen'],
    ['skip', 'bad_usage', 'error.missing_step', 'usage.skip'],
    ['skip 4e', 'bad_usage', 'error.skip_reason', 'usage.skip'],
    ['due', 'bad_usage', 'error.missing_step', 'usage.due'],
    ['due 2a', 'bad_usage', 'error.missing_date', 'usage.due'],
    ['lang', 'bad_usage', 'error.missing_locale', 'usage.lang'],
    ['lang de', 'bad_usage', 'error.bad_locale', 'usage.lang'],
    ['export pdf', 'bad_usage', 'error.bad_export', 'usage.export'],
  ])('%j fails with %s (%s) and shows %s', (text, code, key, usage) => {
    const e = fails(text);
    expect(e.code).toBe(code);
    expect(e.userMessage.key).toBe(key);
    expect(e.usage?.key).toBe(usage);
  });

  it('names what was wrong in the error', () => {
    expect(fails('frobnicate').userMessage.vars).toEqual({ command: 'frobnicate' });
    expect(fails('assign 2a bob').userMessage.vars).toEqual({ value: 'bob' });
    expect(fails('lang de').userMessage.vars).toEqual({ value: 'de' });
  });

  it('passes a date through for the service to check, which rejects a bad one with the due usage', async () => {
    // The grammar only needs a token; the calendar check lives in one place (ChecklistService.setDue).
    expect(parse('due 2a 2026-13-45')).toEqual({ name: 'due', step: '2a', date: '2026-13-45' });
    const h = await makeHarness('memory');
    const id = (await h.rollout()).id;
    for (const bad of ['2026-13-45', '01-12-2026', 'tomorrow', '2026-02-29']) {
      const err = await rejection(h.service.setDue(id, '2a', bad, ADMIN));
      expect(err).toMatchObject({ code: 'bad_date', userMessage: { key: 'error.bad_date', vars: { date: bad } }, usage: { key: 'usage.due' } });
    }
    await h.close();
  });
});

describe('resolveSlackMention', () => {
  it('accepts user mentions with and without a display name', () => {
    expect(resolveSlackMention('<@U0123ABC|bob>')).toBe('slack:U0123ABC');
    expect(resolveSlackMention('<@U0123ABC>')).toBe('slack:U0123ABC');
    expect(resolveSlackMention(' <@U0123ABC> ')).toBe('slack:U0123ABC');
  });

  it('rejects anything that is not a user mention', () => {
    for (const t of ['bob', '@bob', '<#C0123|general>', '<!here>', '<@U0123ABC', '<@u0123abc>', '<@U0123ABC> <@U0456DEF>']) {
      expect(resolveSlackMention(t)).toBeUndefined();
    }
  });
});
