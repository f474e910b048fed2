import { describe, expect, it } from 'vitest';
import { BwprepError } from '../../src/core/errors';
import { Platforms } from '../../src/interactions';
import { t } from '../../src/i18n';
import { FakePlatform } from './harness';

/** Routing by platform: which platform a conversation or a person belongs to, and DMs in the person's language. */
describe('Platforms', () => {
  const slack = new FakePlatform('slack');
  const teams = new FakePlatform('teams');
  const both = new Platforms().register(slack).register(teams);

  it("finds a conversation's platform, and refuses one this process does not serve in the reader's words", () => {
    expect(both.forConversation({ platform: 'teams' })).toBe(teams);
    expect(both.forConversation({ platform: 'slack' })).toBe(slack);
    const e = (() => {
      try {
        new Platforms().register(slack).forConversation({ platform: 'teams' });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(BwprepError);
    expect((e as BwprepError).code).toBe('not_available');
    const m = (e as BwprepError).userMessage;
    expect(t('nl', m.key, m.vars)).toBe(t('nl', 'error.platform_not_served', { platform: 'teams' }));
    expect(m).toEqual({ key: 'error.platform_not_served', vars: { platform: 'teams' } });
  });

  it("finds a person's platform by the prefix of their key only", () => {
    expect(both.forUser('slack:U0ALICE')).toBe(slack);
    expect(both.forUser('teams:29:1abc')).toBe(teams);
    expect(both.forUser('cli:admin')).toBeUndefined(); // not served here
    expect(both.forUser('U0ALICE' as never)).toBeUndefined(); // no prefix
    expect(both.forUser('slackU' as never)).toBeUndefined(); // no prefix, though all but its last letter name a platform
    expect(both.forUser(':U0ALICE' as never)).toBeUndefined(); // an empty prefix is no platform
    expect(both.get('slack')).toBe(slack);
    expect(both.get('discord')).toBeUndefined();
  });

  it("sends a DM in the person's own language, else the fallback; false when nobody can reach them", async () => {
    slack.people.set('slack:U0NL', { locale: 'nl', displayName: 'Noor' } as never);
    slack.people.set('slack:U0NOLANG', { displayName: 'Sam' } as never);
    const lines = (locale: 'nl' | 'en') => [[locale === 'nl' ? 'Hallo' : 'Hello']] as never;
    expect(await both.notify('slack:U0NL', 'en', lines)).toBe(true);
    expect(await both.notify('slack:U0NOLANG', 'nl', lines)).toBe(true);
    expect(slack.dms.map((d) => [d.user, JSON.stringify(d.message)])).toEqual([
      ['slack:U0NL', JSON.stringify({ kind: 'notice', lines: [['Hallo']] })],
      ['slack:U0NOLANG', JSON.stringify({ kind: 'notice', lines: [['Hallo']] })],
    ]);
    // A platform that does not know the person, one not served, one without DMs: nothing sent.
    expect(await both.notify('slack:U0NOBODY', 'en', lines)).toBe(false);
    expect(await both.notify('cli:admin', 'en', lines)).toBe(false);
    const noDms = Object.assign(new FakePlatform('teams'), { notifier: undefined });
    expect(await new Platforms().register(noDms).notify('teams:x', 'en', lines)).toBe(false);
    expect(slack.dms).toHaveLength(2);
  });

  it('counts as chat only a real chat platform, not the console', () => {
    expect(new Platforms().hasChat).toBe(false);
    expect(new Platforms().register(new FakePlatform('cli')).hasChat).toBe(false);
    expect(new Platforms().register(new FakePlatform('cli')).register(teams).hasChat).toBe(true);
    expect(both.list()).toEqual([slack, teams]);
  });
});
