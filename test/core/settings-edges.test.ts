import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, KNOWN_POLICY_TYPES, type RolloutSettings } from '../../src/core/checklist/model';
import { type SetupInput, validateSetup } from '../../src/core/checklist/settings';
import { SETTINGS as current } from './harness';

const NOW = new Date('2026-11-25T09:00:00Z'); // 2026-11-25 10:00 in Amsterdam
const ID = 'organization.12345678-abcd-ef01-2345-6789abcdef01';
const OTHER_ID = 'organization.87654321-abcd-ef01-2345-6789abcdef01';

const withKey: RolloutSettings = { ...current, credentials: { clientId: ID, secret: { v: 1, iv: 'aXY=', tag: 'dGFn', data: 'ZGF0YQ==' } } };
const selfHosted: RolloutSettings = { ...current, hosting: 'self-hosted', serverUrl: 'https://vault.saved.example' };

const v = (input: SetupInput, cur: RolloutSettings = current, now: Date = NOW) => validateSetup(input, cur, now);
const e = (key: string, vars?: Record<string, string | number>) => ({ key: `setup.error.${key}`, ...(vars ? { vars } : {}) });

describe('setup edges: an empty form', () => {
  it('changes nothing but confirms the hosting, and touches no optional field', () => {
    const r = v({});
    expect(r).toStrictEqual({ errors: {}, patch: { hosting: 'cloud-eu' } });
    expect('digestEnabled' in r.patch).toBe(false);
    expect('thresholds' in r.patch).toBe(false);
  });

  it('applies nothing when any field is wrong, even the valid ones', () => {
    const r = v({ locale: 'nl', digestTime: '25:00', clientId: ID, clientSecret: 's3cr3t' });
    expect(r).toStrictEqual({ errors: { digestTime: e('digest_time') }, patch: {} });
  });
});

describe('setup edges: locale and hosting', () => {
  it.each([['en'], ['nl']])('accepts locale %s', (locale) => {
    expect(v({ locale })).toStrictEqual({ errors: {}, patch: { locale, hosting: 'cloud-eu' } });
  });

  it.each([['de'], ['EN'], ['']])('refuses locale %j', (locale) => {
    expect(v({ locale })).toStrictEqual({ errors: { locale: e('locale') }, patch: {} });
  });

  it.each([['cloud-us'], ['cloud-eu']])('accepts hosting %s', (hosting) => {
    expect(v({ hosting }).patch).toStrictEqual({ hosting });
  });

  it.each([['mars'], ['Cloud-EU'], ['']])('refuses hosting %j', (hosting) => {
    expect(v({ hosting })).toStrictEqual({ errors: { hosting: e('hosting') }, patch: {} });
  });
});

describe('setup edges: server URL', () => {
  it.each([
    ['https://vault.acme.example', 'https://vault.acme.example'],
    [' https://vault.acme.example/ ', 'https://vault.acme.example'],
    ['https://vault.acme.example///', 'https://vault.acme.example'],
    ['https://vault.acme.example/bitwarden/', 'https://vault.acme.example/bitwarden'],
    ['https://vault.acme.example:8443/bw', 'https://vault.acme.example:8443/bw'],
    ['https://v', 'https://v'],
  ])('self-hosted: %j is saved as %j', (serverUrl, saved) => {
    expect(v({ hosting: 'self-hosted', serverUrl })).toStrictEqual({ errors: {}, patch: { hosting: 'self-hosted', serverUrl: saved } });
  });

  it.each([
    ['http://vault.acme.example'],
    ['vault.acme.example'],
    ['see https://vault.acme.example'],
    ['https://vault.acme.example/a b'],
    ['https:///vault'],
    ['https://'],
  ])('self-hosted: refuses %j', (serverUrl) => {
    expect(v({ hosting: 'self-hosted', serverUrl })).toStrictEqual({ errors: { serverUrl: e('server_url') }, patch: {} });
  });

  it('self-hosted without any URL asks for one', () => {
    expect(v({ hosting: 'self-hosted' })).toStrictEqual({ errors: { serverUrl: e('server_url_required') }, patch: {} });
    expect(v({ hosting: 'self-hosted', serverUrl: '   ' })).toStrictEqual({ errors: { serverUrl: e('server_url_required') }, patch: {} });
  });

  it('self-hosted keeps the saved URL when the field is left empty, and a typed one replaces it', () => {
    expect(v({ serverUrl: '' }, selfHosted).patch).toStrictEqual({ hosting: 'self-hosted', serverUrl: 'https://vault.saved.example' });
    expect(v({}, selfHosted).patch).toStrictEqual({ hosting: 'self-hosted', serverUrl: 'https://vault.saved.example' });
    expect(v({ serverUrl: 'https://new.example/' }, selfHosted).patch).toStrictEqual({ hosting: 'self-hosted', serverUrl: 'https://new.example' });
  });

  it('cloud refuses a server URL but ignores a blank one', () => {
    expect(v({ serverUrl: 'https://vault.acme.example' })).toStrictEqual({ errors: { serverUrl: e('server_url_cloud') }, patch: {} });
    expect(v({ hosting: 'cloud-us', serverUrl: 'https://x.example' }).errors).toStrictEqual({ serverUrl: e('server_url_cloud') });
    expect(v({ serverUrl: '   ' })).toStrictEqual({ errors: {}, patch: { hosting: 'cloud-eu' } });
  });
});

describe('setup edges: API key', () => {
  it('a new client id with a secret becomes a new key, both trimmed', () => {
    expect(v({ clientId: ` ${ID} `, clientSecret: ' s3cr3t ' })).toStrictEqual({
      errors: {},
      patch: { hosting: 'cloud-eu' },
      newKey: { clientId: ID, clientSecret: 's3cr3t' },
    });
  });

  it('accepts an upper-case client id as typed', () => {
    const upper = ID.toUpperCase();
    expect(v({ clientId: upper, clientSecret: 'x' }).newKey).toStrictEqual({ clientId: upper, clientSecret: 'x' });
  });

  it.each([[''], ['   ']])('clearing the client id (%j) with no secret forgets a saved key', (clientId) => {
    expect(v({ clientId }, withKey)).toStrictEqual({ errors: {}, patch: { hosting: 'cloud-eu' }, clearKey: true });
    expect(v({ clientId, clientSecret: '  ' }, withKey)).toStrictEqual({ errors: {}, patch: { hosting: 'cloud-eu' }, clearKey: true });
  });

  it('an empty client id without a saved key does nothing', () => {
    expect(v({ clientId: '' })).toStrictEqual({ errors: {}, patch: { hosting: 'cloud-eu' } });
  });

  it('a secret without a client id asks for the client id (also when a key is saved)', () => {
    expect(v({ clientSecret: 's3cr3t' })).toStrictEqual({ errors: { clientId: e('client_id_required') }, patch: {} });
    expect(v({ clientId: '', clientSecret: 's3cr3t' }, withKey)).toStrictEqual({ errors: { clientId: e('client_id_required') }, patch: {} });
  });

  it.each([['org.123'], [`${ID}0`], [ID.replace('organization.', '')], [`x${ID}`], [ID.replace('abcd', 'abcg')]])('refuses client id %j', (clientId) => {
    expect(v({ clientId, clientSecret: 's' })).toStrictEqual({ errors: { clientId: e('client_id') }, patch: {} });
  });

  it('a new client id without a secret asks for the secret', () => {
    expect(v({ clientId: ID })).toStrictEqual({ errors: { clientSecret: e('secret_required') }, patch: {} });
    expect(v({ clientId: OTHER_ID, clientSecret: '  ' }, withKey)).toStrictEqual({ errors: { clientSecret: e('secret_required') }, patch: {} });
  });

  it('the saved client id without a secret keeps the saved key', () => {
    expect(v({ clientId: ID, clientSecret: '' }, withKey)).toStrictEqual({ errors: {}, patch: { hosting: 'cloud-eu' } });
  });
});

describe('setup edges: digest time, time zone, weekdays', () => {
  it.each([['00:00'], ['09:30'], ['19:05'], ['20:45'], ['23:59']])('accepts digest time %s', (digestTime) => {
    expect(v({ digestTime }).patch).toStrictEqual({ hosting: 'cloud-eu', digestTime });
  });

  it.each([['24:00'], ['9:00'], ['09:60'], ['x09:00'], ['09:000'], ['09:5a'], ['0a:00'], [' 09:00'], ['']])('refuses digest time %j', (digestTime) => {
    expect(v({ digestTime })).toStrictEqual({ errors: { digestTime: e('digest_time') }, patch: {} });
  });

  it.each([
    ['Europe/Berlin', 'Europe/Berlin'],
    [' America/New_York ', 'America/New_York'],
    ['UTC', 'UTC'],
    ['utc', 'UTC'],
    [' Utc ', 'UTC'],
  ])('accepts time zone %j as %j', (timezone, saved) => {
    expect(v({ timezone }).patch).toStrictEqual({ hosting: 'cloud-eu', timezone: saved });
  });

  it.each([['Mars/Olympus'], ['EST'], ['CET'], ['amsterdam'], ['']])('refuses time zone %j and names it', (timezone) => {
    expect(v({ timezone })).toStrictEqual({ errors: { timezone: e('timezone', { value: timezone }) }, patch: {} });
  });

  it.each([
    [
      ['7', '1', '3', '1'],
      [1, 3, 7],
    ],
    [
      ['7', '5', '1', '3'],
      [1, 3, 5, 7],
    ],
    [['1'], [1]],
    [['7'], [7]],
    [
      ['6', '2', '4', '7', '1', '5', '3'],
      [1, 2, 3, 4, 5, 6, 7],
    ],
  ])('weekdays %j are saved as %j', (weekdays, saved) => {
    expect(v({ weekdays }).patch).toStrictEqual({ hosting: 'cloud-eu', weekdays: saved });
  });

  // One day the forms could not have sent refuses the field: dropping it would save a schedule nobody chose.
  it.each([[[]], [['0']], [['8']], [['1.5']], [['-1']], [['x', '']], [['0', '2', '8', '1.5', 'x']], [['1', '9']], [['01']]])(
    'refuses weekdays %j',
    (weekdays) => {
      expect(v({ weekdays })).toStrictEqual({ errors: { weekdays: e('weekdays') }, patch: {} });
    },
  );
});

describe('setup edges: go-live date', () => {
  it.each([[''], ['   ']])('an empty go-live (%j) clears it', (goLive) => {
    const r = v({ goLive }, { ...current, goLive: '2026-12-01' });
    expect(r.errors).toStrictEqual({});
    expect('goLive' in r.patch).toBe(true);
    expect(r.patch).toStrictEqual({ hosting: 'cloud-eu', goLive: undefined });
  });

  it.each([['2026-11-25'], ['2026-12-01'], [' 2027-01-31 ']])('accepts %j (today or later)', (goLive) => {
    expect(v({ goLive }).patch).toStrictEqual({ hosting: 'cloud-eu', goLive: goLive.trim() });
  });

  it.each([['next week'], ['2026-02-30'], ['2026-13-01'], ['25-11-2026']])('refuses %j as not a date', (goLive) => {
    expect(v({ goLive })).toStrictEqual({ errors: { goLive: e('go_live') }, patch: {} });
  });

  it('refuses a date in the past, but keeps the saved one even when it has passed', () => {
    expect(v({ goLive: '2026-11-24' })).toStrictEqual({ errors: { goLive: e('go_live_past') }, patch: {} });
    expect(v({ goLive: '2026-11-24' }, { ...current, goLive: '2026-11-24' }).patch).toStrictEqual({ hosting: 'cloud-eu', goLive: '2026-11-24' });
    expect(v({ goLive: '2026-11-23' }, { ...current, goLive: '2026-11-24' }).errors).toStrictEqual({ goLive: e('go_live_past') });
  });

  it('judges "today" in the time zone being saved', () => {
    const late = new Date('2026-11-25T23:30:00Z'); // 26th in Amsterdam, 25th in New York
    expect(v({ goLive: '2026-11-25' }, current, late).errors).toStrictEqual({ goLive: e('go_live_past') });
    expect(v({ goLive: '2026-11-25', timezone: 'America/New_York' }, current, late).patch).toStrictEqual({
      hosting: 'cloud-eu',
      timezone: 'America/New_York',
      goLive: '2026-11-25',
    });
  });
});

describe('setup edges: admins, policies, digest switch', () => {
  it('needs at least one admin and drops duplicates', () => {
    expect(v({ admins: [] })).toStrictEqual({ errors: { admins: e('admins') }, patch: {} });
    expect(v({ admins: ['slack:U1', 'slack:U2', 'slack:U1'] }).patch).toStrictEqual({ hosting: 'cloud-eu', admins: ['slack:U1', 'slack:U2'] });
  });

  it('names every unknown policy type and the known ones', () => {
    expect(v({ desiredPolicies: ['0', '999', '7', '1'] })).toStrictEqual({
      errors: { desiredPolicies: e('unknown_policy', { value: '999, 7', known: KNOWN_POLICY_TYPES.join(', ') }) },
      patch: {},
    });
  });

  it('two-digit policy types are known types: saved in order', () => {
    expect(v({ desiredPolicies: ['11', '2', '20'] }).patch).toStrictEqual({ hosting: 'cloud-eu', desiredPolicies: [2, 11, 20] });
  });

  it('a policy value that only Number() reads as a known type is unknown: empty, -0, 1e0', () => {
    expect(v({ desiredPolicies: ['', '-0', '1e0', '2'] })).toStrictEqual({
      errors: { desiredPolicies: e('unknown_policy', { value: ', -0, 1e0', known: KNOWN_POLICY_TYPES.join(', ') }) },
      patch: {},
    });
  });

  it.each([[true], [false]])('digestEnabled %s is saved as given', (digestEnabled) => {
    expect(v({ digestEnabled }).patch).toStrictEqual({ hosting: 'cloud-eu', digestEnabled });
  });
});

describe('setup edges: thresholds', () => {
  type F = 'extensionPassPct' | 'onboardingPassPct' | 'onboardingWarnPct' | 'minOwners';
  it.each<[F, string, number]>([
    ['extensionPassPct', '1', 1],
    ['extensionPassPct', '100', 100],
    ['extensionPassPct', ' 85 ', 85],
    ['extensionPassPct', '80,0', 80],
    ['extensionPassPct', '80.0', 80],
    ['extensionPassPct', '80,00', 80],
    ['onboardingPassPct', '50', 50],
    ['onboardingPassPct', '100', 100],
    ['onboardingWarnPct', '0', 0],
    ['onboardingWarnPct', '90', 90], // equal to the pass threshold is fine
    ['minOwners', '1', 1],
    ['minOwners', '20', 20],
  ])('%s = %j is saved as %d, the others kept', (f, raw, n) => {
    expect(v({ [f]: raw })).toStrictEqual({ errors: {}, patch: { hosting: 'cloud-eu', thresholds: { ...DEFAULT_THRESHOLDS, [f]: n } } });
  });

  it.each<[F, string, string, number, number]>([
    ['extensionPassPct', '0', 'percent', 1, 100],
    ['extensionPassPct', '101', 'percent', 1, 100],
    ['extensionPassPct', '8,5', 'percent', 1, 100],
    ['extensionPassPct', '50.5', 'percent', 1, 100],
    ['extensionPassPct', 'abc', 'percent', 1, 100],
    ['onboardingPassPct', '0', 'percent', 1, 100],
    ['onboardingPassPct', '101', 'percent', 1, 100],
    ['onboardingWarnPct', '-1', 'percent', 0, 100],
    ['onboardingWarnPct', '101', 'percent', 0, 100],
    ['minOwners', '0', 'min_owners', 1, 20],
    ['minOwners', '21', 'min_owners', 1, 20],
    ['minOwners', '2.5', 'min_owners', 1, 20],
    // What Number() would read but nobody types as a percentage or a count.
    ['extensionPassPct', '1e2', 'percent', 1, 100],
    ['extensionPassPct', '0x10', 'percent', 1, 100],
    ['onboardingPassPct', '+90', 'percent', 1, 100],
    ['minOwners', '0b11', 'min_owners', 1, 20],
  ])('%s = %j is refused with %s {min: %d, max: %d}', (f, raw, key, min, max) => {
    expect(v({ [f]: raw })).toStrictEqual({ errors: { [f]: e(key, { min, max }) }, patch: {} });
  });

  it.each([[''], ['   ']])('a blank threshold (%j) keeps the saved one and touches nothing', (raw) => {
    const r = v({ extensionPassPct: raw, onboardingPassPct: raw, onboardingWarnPct: raw, minOwners: raw });
    expect(r).toStrictEqual({ errors: {}, patch: { hosting: 'cloud-eu' } });
  });

  it('refuses a warn threshold above the pass threshold (typed or saved)', () => {
    expect(v({ onboardingWarnPct: '91' })).toStrictEqual({ errors: { onboardingWarnPct: e('warn_above_pass') }, patch: {} });
    expect(v({ onboardingPassPct: '40' })).toStrictEqual({ errors: { onboardingWarnPct: e('warn_above_pass') }, patch: {} });
    expect(v({ onboardingPassPct: '60', onboardingWarnPct: '60' }).patch).toStrictEqual({
      hosting: 'cloud-eu',
      thresholds: { ...DEFAULT_THRESHOLDS, onboardingPassPct: 60, onboardingWarnPct: 60 },
    });
  });

  it('does not add the ordering error on top of an invalid threshold', () => {
    expect(v({ onboardingPassPct: '0', onboardingWarnPct: '95' })).toStrictEqual({
      errors: { onboardingPassPct: e('percent', { min: 1, max: 100 }) },
      patch: {},
    });
    expect(v({ onboardingPassPct: '40', onboardingWarnPct: '-5' })).toStrictEqual({
      errors: { onboardingWarnPct: e('percent', { min: 0, max: 100 }) },
      patch: {},
    });
  });
});
