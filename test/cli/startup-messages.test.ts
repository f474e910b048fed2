import { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import type { TemplateIssue } from '../../src/core/checklist/template';
import { t } from '../../src/i18n';
import { slackStartupError } from '../../src/slack/installation';
import { describeProblem } from '../../src/templates';

/** Every message a start-up failure or a template problem can produce exists in both languages, in plain words. */

const LOCALES = ['en', 'nl'] as const;
const looksLikeAKey = /^[a-z_]+(\.[a-z0-9_]+)+$/;

describe('Slack start-up messages', () => {
  it.each(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive', 'missing_scope'])(
    '%s names the variable and what Slack said, for the bot and the app-level token',
    (error) => {
      for (const token of ['bot', 'app'] as const) {
        const e = slackStartupError(new webApi.WebAPIPlatformError({ ok: false, error }), token, undefined);
        expect(e).toBeDefined();
        for (const locale of LOCALES) {
          const text = e!.render(locale);
          expect(text, `${token} ${locale}`).not.toMatch(looksLikeAKey);
          expect(text).toContain(token === 'bot' ? 'SLACK_BOT_TOKEN' : 'SLACK_APP_TOKEN');
          expect(text).toContain(error);
        }
      }
    },
  );

  it('a network failure names the API URL, not a token', () => {
    const e = slackStartupError(
      new webApi.WebAPIRequestError(Object.assign(new Error('getaddrinfo ENOTFOUND slack.example.test'), { code: 'ENOTFOUND' })),
      'bot',
      'https://slack.example.test/api/',
    );
    expect(e?.render('en')).toBe(
      'bwprep cannot reach the Slack API at https://slack.example.test/api/ to check SLACK_BOT_TOKEN (getaddrinfo ENOTFOUND slack.example.test). Check the network connection and any proxy or firewall, and SLACK_API_URL if you set it; then start again.',
    );
    expect(slackStartupError(new Error('something else'), 'bot', undefined)).toBeUndefined();
  });
});

describe('template problems in plain words', () => {
  const issues: TemplateIssue[] = [
    { code: 'required' },
    ...['string', 'number', 'int', 'array', 'object', 'boolean', 'bigint'].map((expected) => ({ code: 'invalid_type', expected })),
    { code: 'too_small', origin: 'string', minimum: 1 },
    { code: 'too_small', origin: 'array', minimum: 1 },
    { code: 'too_small', origin: 'number', minimum: 0, inclusive: true },
    { code: 'too_small', origin: 'number', minimum: 0, inclusive: false },
    { code: 'too_big', origin: 'number', maximum: 9, inclusive: true },
    { code: 'too_big', origin: 'number', maximum: 9, inclusive: false },
    { code: 'too_big', origin: 'array', maximum: 2 },
    { code: 'invalid_format', format: 'url' },
    { code: 'invalid_format', format: 'regex' },
    { code: 'invalid_value', values: ['all', 'self-hosted', 'cloud'] },
    { code: 'unrecognized_keys', keys: ['hour'] },
    { code: 'unrecognized_keys', keys: ['hour', 'owner'] },
    { code: 'duplicate_id', id: '2a' },
    { code: 'phase_not_listed', phase: 9 },
    { code: 'custom' },
  ];

  it('every kind of problem is a sentence that starts with where it is', () => {
    for (const issue of issues)
      for (const locale of LOCALES) {
        const text = describeProblem(locale, { path: 'steps[3].hours', message: 'zod wording', issue });
        expect(text, JSON.stringify(issue)).toMatch(/^steps\[3\]\.hours .+\.$/);
        expect(text).not.toMatch(/template\.problem/);
        if (issue.code !== 'custom') expect(text).not.toContain('zod wording');
      }
    expect(describeProblem('en', { path: 'steps[3].hours', message: '', issue: { code: 'required' } })).toBe('steps[3].hours is required.');
    expect(describeProblem('nl', { path: '(root)', message: '', issue: { code: 'unrecognized_keys', keys: ['extra'] } })).toBe(
      'Het sjabloon heeft een veld dat sjablonen niet kennen: extra.',
    );
  });

  it('the startup.* and config.* texts are full sentences in both languages', () => {
    for (const locale of LOCALES) {
      for (const key of [
        'startup.http.in_use',
        'startup.store.sqlite',
        'startup.store.redis',
        'startup.store.postgres',
        'config.invalid.bwprep_locale',
        'config.missing.bw_client_pair',
      ])
        expect(
          t(locale, key, { port: 3000, host: '0.0.0.0', path: '/x', url: 'redis://h', reason: 'r', variable: 'BW_CLIENT_SECRET', present: 'BW_CLIENT_ID' }),
          key,
        ).toMatch(/^\S.*\.$/);
    }
  });
});
