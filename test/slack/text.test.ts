import { describe, expect, it } from 'vitest';
import { adminRightsCount } from '../../src/slack/installation';
import { mrkdwn } from '../../src/slack/blocks/mrkdwn';
import { slackTextToPlain } from '../../src/slack/text';
import { plainText, userText, userTextPlain } from '../../src/views/rich';

describe('slackTextToPlain: Slack text decoded once on the way in', () => {
  it.each([
    ['Not needed &amp; no &lt;custom&gt; roles', 'Not needed & no <custom> roles'],
    ['a &amp;lt; b', 'a &lt; b'], // the person typed the entity itself
    ['&amp;amp;', '&amp;'],
    ['upgraded by <@U0BOB|bob>', 'upgraded by <@slack:U0BOB>'],
    ['by <@W0GRID>', 'by <@slack:W0GRID>'],
    ['see <#C0OPS|ops> and <#C0X>', 'see #ops and #C0X'],
    ['ping <!here> <!subteam^S01|@admins> <!channel>', 'ping @here @admins @channel'],
    ['<https://example.com/a?b=1&amp;c=2|the runbook>', 'the runbook (https://example.com/a?b=1&c=2)'],
    ['<https://example.com>', 'https://example.com'],
    ['<mailto:it@example.com|it@example.com>', 'it@example.com'],
    ['plain text stays', 'plain text stays'],
  ])('%s → %s', (input, plain) => {
    expect(slackTextToPlain(input)).toBe(plain);
  });
});

describe('mentions inside user text', () => {
  it('become user spans: a Slack mention in mrkdwn, the bare id in plain text, @id in files', () => {
    const note = slackTextToPlain('upgraded by <@U0BOB|bob> & <@U0ADA>');
    expect(userText(note)).toEqual(['upgraded by ', { user: 'slack:U0BOB' }, ' & ', { user: 'slack:U0ADA' }]);
    expect(mrkdwn(userText(note))).toBe('upgraded by <@U0BOB> &amp; <@U0ADA>');
    expect(plainText(userText(note))).toBe('upgraded by U0BOB & U0ADA');
    expect(userTextPlain(note)).toBe('upgraded by @U0BOB & @U0ADA');
  });

  it('text that only looks like Slack syntax stays text and is escaped once', () => {
    const note = slackTextToPlain('&lt;@U0BOB&gt; is not a mention');
    expect(userText(note)).toEqual(['<@U0BOB> is not a mention']);
    expect(mrkdwn(userText(note))).toBe('&lt;@U0BOB&gt; is not a mention');
  });
});

describe('adminRightsCount (Slack Connect, Enterprise Grid)', () => {
  const inst = { teamId: 'T0HOME' };
  const grid = { teamId: 'T0HOME', enterpriseId: 'E0ORG' };
  it.each([
    ['a person of the installing workspace', { team_id: 'T0HOME' }, inst, true],
    ['a Slack Connect guest from another organization', { team_id: 'T0OTHER' }, inst, false],
    ['a person of a sister workspace in the same Grid organization', { team_id: 'T0SISTER', enterprise_user: { enterprise_id: 'E0ORG' } }, grid, true],
    ['a person of another Grid organization', { team_id: 'T0OTHER', enterprise_user: { enterprise_id: 'E0ELSE' } }, grid, false],
    ['anyone, while the installation is unknown', { team_id: 'T0HOME' }, undefined, false],
  ])('%s: %s', (_label, user, installation, expected) => {
    expect(adminRightsCount(user, installation)).toBe(expected);
  });
});
