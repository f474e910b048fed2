import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load';
import { DIGEST_POST_ALLOWANCE_SECONDS, parseDigestTime } from '../../src/config/schema';

function problems(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const FAKE_BOT_TOKEN = 'xoxb-0000000000-fake-bot-token';

describe('loadConfig', () => {
  it('starts with no environment at all: console mode, cloud US, SQLite, Dutch, Amsterdam, 09:00 Mon–Fri', () => {
    const c = loadConfig({});
    expect(c.slack).toBeUndefined();
    expect(c.teams).toBeUndefined();
    expect(c.bitwarden).toEqual({ hosting: 'cloud-us', apiUrl: 'https://api.bitwarden.com', identityUrl: 'https://identity.bitwarden.com' });
    expect(c.storeUrl).toBe('sqlite://./data/bwprep.sqlite');
    expect(c.defaults).toEqual({ locale: 'nl', hosting: 'cloud-us', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] });
    expect(c.admins).toEqual([]);
    expect(c.http).toEqual({ port: 3000, host: '0.0.0.0' });
    expect(c.logLevel).toBe('info');
    expect(c.encryptionKey).toBeUndefined();
  });

  it('Slack over HTTP with a bot token and signing secret; Socket Mode with an app token', () => {
    expect(loadConfig({ SLACK_BOT_TOKEN: FAKE_BOT_TOKEN, SLACK_SIGNING_SECRET: 'fake-signing-secret' }).slack).toEqual({
      botToken: FAKE_BOT_TOKEN,
      signingSecret: 'fake-signing-secret',
      socketMode: false,
      workThread: 'auto',
    });
    expect(loadConfig({ SLACK_BOT_TOKEN: FAKE_BOT_TOKEN, SLACK_APP_TOKEN: 'xapp-1-fake' }).slack).toMatchObject({ socketMode: true, appToken: 'xapp-1-fake' });
  });

  it('BWPREP_SLACK_WORK_THREAD is auto, on or off; anything else is refused in one sentence', () => {
    for (const v of ['auto', 'on', 'off'] as const)
      expect(loadConfig({ SLACK_BOT_TOKEN: FAKE_BOT_TOKEN, SLACK_SIGNING_SECRET: 'fake-signing-secret', BWPREP_SLACK_WORK_THREAD: v }).slack?.workThread).toBe(
        v,
      );
    expect(problems({ BWPREP_SLACK_WORK_THREAD: 'yes' })).toEqual([
      expect.objectContaining({ variable: 'BWPREP_SLACK_WORK_THREAD', message: 'BWPREP_SLACK_WORK_THREAD must be auto, on or off.' }),
    ]);
  });

  it('lists every problem at once', () => {
    const p = problems({
      SLACK_BOT_TOKEN: 'xoxp-fake-user-token',
      SLACK_SIGNING_SECRET: 'fake',
      BW_REGION: 'mars',
      BWPREP_TIMEZONE: 'Europe/Atlantis',
      BWPREP_DIGEST_TIME: '25:00',
      PORT: 'eighty',
      BWPREP_ADMINS: 'U0123ABC',
      BWPREP_STORE_URL: 'mysql://db/bwprep',
    });
    expect(p.map((x) => x.variable).sort()).toEqual(
      ['BWPREP_ADMINS', 'BWPREP_DIGEST_TIME', 'BWPREP_STORE_URL', 'BWPREP_TIMEZONE', 'BW_REGION', 'PORT', 'SLACK_BOT_TOKEN'].sort(),
    );
  });

  it('its error message names each variable and never echoes a secret value', () => {
    let message = '';
    try {
      loadConfig({
        SLACK_BOT_TOKEN: 'xoxp-fake-user-token-1234',
        SLACK_SIGNING_SECRET: 'fake',
        BW_CLIENT_SECRET: 'fake-bw-client-secret',
        BWPREP_TIMEZONE: 'Nowhere/City',
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^bwprep cannot start: 3 settings are missing or invalid\./);
    expect(message).toContain('  - SLACK_BOT_TOKEN must be a bot token that starts with xoxb- (Slack app → OAuth & Permissions → Bot User OAuth Token).');
    expect(message).toContain('  - BWPREP_TIMEZONE must be an IANA time zone, such as Europe/Amsterdam.');
    expect(message).toContain(
      '  - BW_CLIENT_ID is missing: BW_CLIENT_SECRET is set, and BW_CLIENT_ID and BW_CLIENT_SECRET go together (the organization API key). Set both or neither.',
    );
    expect(message).not.toContain('xoxp-fake-user-token-1234');
    expect(message).not.toContain('fake-bw-client-secret');
  });

  it.each<[string, NodeJS.ProcessEnv, string[]]>([
    ['only an app token', { SLACK_APP_TOKEN: 'xapp-1-fake' }, ['SLACK_BOT_TOKEN']],
    ['only a signing secret', { SLACK_SIGNING_SECRET: 'fake-signing-secret' }, ['SLACK_BOT_TOKEN']],
    ['only a bot token', { SLACK_BOT_TOKEN: FAKE_BOT_TOKEN }, ['SLACK_SIGNING_SECRET']],
  ])('Slack half-configured (%s) names the missing variable', (_label, env, missing) => {
    const p = problems(env);
    expect(p.map((x) => x.variable)).toEqual(missing);
    expect(p[0]?.message).toMatch(/Slack/);
  });

  it('the signing-secret problem mentions Socket Mode as the alternative', () => {
    expect(problems({ SLACK_BOT_TOKEN: FAKE_BOT_TOKEN })[0]?.message).toContain('SLACK_APP_TOKEN');
  });

  it('BW_REGION=self-hosted needs BW_SERVER_URL (or both explicit URLs)', () => {
    expect(problems({ BW_REGION: 'self-hosted' }).map((x) => x.variable)).toEqual(['BW_SERVER_URL']);
    expect(problems({ BW_REGION: 'self-hosted', BW_API_URL: 'https://vault.example.test/api' }).map((x) => x.variable)).toEqual(['BW_SERVER_URL']);
    const c = loadConfig({ BW_REGION: 'self-hosted', BW_SERVER_URL: 'https://vault.example.test/' });
    expect(c.bitwarden).toEqual({
      hosting: 'self-hosted',
      apiUrl: 'https://vault.example.test/api',
      identityUrl: 'https://vault.example.test/identity',
      serverUrl: 'https://vault.example.test',
    });
    expect(c.defaults).toMatchObject({ hosting: 'self-hosted', serverUrl: 'https://vault.example.test' });
    const explicit = loadConfig({ BW_REGION: 'self-hosted', BW_API_URL: 'https://api.example.test', BW_IDENTITY_URL: 'https://id.example.test' });
    expect(explicit.bitwarden).toMatchObject({ apiUrl: 'https://api.example.test', identityUrl: 'https://id.example.test' });
  });

  it('BW_REGION=eu points at the EU cloud', () => {
    expect(loadConfig({ BW_REGION: 'eu' }).bitwarden).toMatchObject({
      hosting: 'cloud-eu',
      apiUrl: 'https://api.bitwarden.eu',
      identityUrl: 'https://identity.bitwarden.eu',
    });
  });

  it('a malformed BW_SERVER_URL is refused', () => {
    expect(problems({ BW_REGION: 'self-hosted', BW_SERVER_URL: 'vault.example.test' }).map((x) => x.variable)).toContain('BW_SERVER_URL');
  });

  it('reads the admins list, the digest time with weekdays, and an encryption key', () => {
    const c = loadConfig({
      BWPREP_ADMINS: ' slack:U0123ABC , teams:00000000-aad ,',
      BWPREP_DIGEST_TIME: '08:30 mon,wed,fri',
      BWPREP_ENCRYPTION_KEY: '00'.repeat(32),
      BWPREP_LOCALE: 'en',
    });
    expect(c.admins).toEqual(['slack:U0123ABC', 'teams:00000000-aad']);
    expect(c.defaults).toMatchObject({ digestTime: '08:30', weekdays: [1, 3, 5], locale: 'en' });
    expect(c.encryptionKey?.length).toBe(32);
    expect(problems({ BWPREP_ENCRYPTION_KEY: 'too-short' }).map((x) => x.variable)).toEqual(['BWPREP_ENCRYPTION_KEY']);
  });

  it('Teams enabled without an app id is refused unless explicitly unauthenticated', () => {
    expect(problems({ TEAMS_ENABLED: 'true' }).map((x) => x.variable)).toEqual(['MICROSOFT_APP_ID']);
    expect(loadConfig({ TEAMS_ENABLED: 'true', TEAMS_ALLOW_UNAUTHENTICATED: 'true' }).teams).toEqual({ allowUnauthenticated: true });
  });
});

describe('loadConfig: every problem at once, empty means unset', () => {
  // Cross-variable checks run apart from the schema, so a type error does not hide them.
  it('lists a cross-variable problem together with an enum error', () => {
    expect(
      problems({ LOG_LEVEL: 'verbose', BW_REGION: 'self-hosted' })
        .map((x) => x.variable)
        .sort(),
    ).toEqual(['BW_SERVER_URL', 'LOG_LEVEL']);
  });

  it('lists Slack half-configured together with a bad PORT', () => {
    expect(
      problems({ PORT: 'eighty', SLACK_APP_TOKEN: 'xapp-1-fake' })
        .map((x) => x.variable)
        .sort(),
    ).toEqual(['PORT', 'SLACK_BOT_TOKEN']);
  });

  // `PORT=` (empty, as a .env template or compose file leaves it) must not coerce to 0, a random port.
  it('an empty PORT means the default 3000, not a random port', () => {
    expect(loadConfig({ PORT: '' }).http.port).toBe(3000);
  });
});

describe('parseDigestTime', () => {
  it.each<[string, { time: string; weekdays: number[] } | undefined]>([
    ['09:00', { time: '09:00', weekdays: [1, 2, 3, 4, 5] }],
    ['08:30 Mon-Fri', { time: '08:30', weekdays: [1, 2, 3, 4, 5] }],
    ['08:30 mon,wed,fri', { time: '08:30', weekdays: [1, 3, 5] }],
    ['07:15 Fri-Mon', { time: '07:15', weekdays: [1, 5, 6, 7] }],
    ['23:59 sun', { time: '23:59', weekdays: [7] }],
    ['00:00 Monday,Tuesday', { time: '00:00', weekdays: [1, 2] }],
    ['24:00', undefined],
    ['09:60', undefined],
    ['9am', undefined],
    ['09:00 someday', undefined],
    ['09:00 mon-', undefined],
  ])('%j', (input, expected) => {
    expect(parseDigestTime(input)).toEqual(expected);
  });
});

describe('config problems in our own words', () => {
  function error(env: NodeJS.ProcessEnv): ConfigError {
    try {
      loadConfig(env);
    } catch (e) {
      if (e instanceof ConfigError) return e;
      throw e;
    }
    throw new Error('expected a ConfigError');
  }

  it('every problem is one sentence that names its variable, never zod’s wording', () => {
    const e = error({
      BWPREP_LOCALE: 'de',
      BW_REGION: 'mars',
      LOG_LEVEL: 'verbose',
      PORT: '99999',
      MICROSOFT_APP_TYPE: 'Other',
      TEAMS_ENABLED: 'maybe',
      BWPREP_STORE_URL: 'mysql://db',
      BWPREP_DIGEST_TIME: '25:00',
      BWPREP_ADMINS: 'U0123',
      BWPREP_PUBLIC_URL: 'example.test',
      BW_CLIENT_ID: 'not-an-id',
      BW_CLIENT_SECRET: 'fake-bw-client-secret',
    });
    for (const p of e.problems) {
      expect(p.message.startsWith(p.variable), p.message).toBe(true);
      expect(p.message).toMatch(/\.$/);
      expect(p.message).not.toMatch(/Invalid|expected|received|Too (small|big)/);
    }
    expect(e.problems.find((p) => p.variable === 'BWPREP_LOCALE')?.message).toBe('BWPREP_LOCALE must be nl or en.');
    expect(e.problems.find((p) => p.variable === 'BW_REGION')?.message).toBe('BW_REGION must be us, eu or self-hosted.');
    expect(e.problems.find((p) => p.variable === 'TEAMS_ENABLED')?.message).toBe('TEAMS_ENABLED must be true or false.');
    expect(e.problems.filter((p) => p.variable === 'PORT')).toHaveLength(1);
  });

  it('renders in Dutch with the same variables', () => {
    const nl = error({ BWPREP_LOCALE: 'de', BW_CLIENT_ID: 'organization.00000000-0000-4000-8000-000000000000' }).render('nl').split('\n');
    expect(nl).toEqual([
      'bwprep kan niet starten: 2 instellingen ontbreken of zijn ongeldig.',
      '  - BWPREP_LOCALE moet nl of en zijn.',
      '  - BW_CLIENT_SECRET ontbreekt: BW_CLIENT_ID is wel ingesteld, en BW_CLIENT_ID en BW_CLIENT_SECRET horen bij elkaar (de API-sleutel van de organisatie). Stel ze allebei in of geen van beide.',
      'Stel ze in via de omgeving of in een .env-bestand (zie .env.example) en start opnieuw.',
    ]);
  });

  it('reads BWPREP_TEMPLATE as the file of a custom template', () => {
    expect(loadConfig({ BWPREP_TEMPLATE: './my-template.json' }).templateFile).toBe('./my-template.json');
    expect(loadConfig({}).templateFile).toBeUndefined();
  });
});

describe('the living card update interval (BWPREP_CARD_UPDATE_INTERVAL_MS)', () => {
  it('defaults to one update per card per second; 0 turns the pacing off', () => {
    expect(loadConfig({}).cards).toEqual({ updateIntervalMs: 1000 });
    expect(loadConfig({ BWPREP_CARD_UPDATE_INTERVAL_MS: '0' }).cards.updateIntervalMs).toBe(0);
    expect(loadConfig({ BWPREP_CARD_UPDATE_INTERVAL_MS: '60000' }).cards.updateIntervalMs).toBe(60_000);
  });

  it('refuses a word, a fraction, a negative or too long an interval in one sentence', () => {
    for (const value of ['fast', '2.5', '-1', '60001']) {
      expect(problems({ BWPREP_CARD_UPDATE_INTERVAL_MS: value }), value).toEqual([
        expect.objectContaining({
          variable: 'BWPREP_CARD_UPDATE_INTERVAL_MS',
          message: 'BWPREP_CARD_UPDATE_INTERVAL_MS must be a whole number of milliseconds from 0 to 60000, such as 1000 (0 updates a card after every change).',
        }),
      ]);
    }
  });
});

describe('the digest scheduler settings (lease, check timeout, tick interval)', () => {
  it('default to a 60 s tick, 2 minutes for the checks and a 10-minute digest lease', () => {
    expect(loadConfig({}).scheduler).toEqual({ intervalMs: 60_000, checkTimeoutMs: 120_000, digestLeaseMs: 600_000 });
    expect(loadConfig({ BWPREP_DIGEST_LEASE_SECONDS: '', BWPREP_SCHEDULER_INTERVAL_SECONDS: '' }).scheduler.digestLeaseMs).toBe(600_000);
  });

  it('are read in seconds', () => {
    const c = loadConfig({ BWPREP_SCHEDULER_INTERVAL_SECONDS: '1', BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS: '10', BWPREP_DIGEST_LEASE_SECONDS: '70' });
    expect(c.scheduler).toEqual({ intervalMs: 1_000, checkTimeoutMs: 10_000, digestLeaseMs: 70_000 });
  });

  it.each([
    ['BWPREP_SCHEDULER_INTERVAL_SECONDS', 'BWPREP_SCHEDULER_INTERVAL_SECONDS must be a whole number of seconds from 1 to 600, such as 60.'],
    ['BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS', 'BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS must be a whole number of seconds from 1 to 1800, such as 120.'],
    ['BWPREP_DIGEST_LEASE_SECONDS', 'BWPREP_DIGEST_LEASE_SECONDS must be a whole number of seconds from 1 to 3600, such as 600.'],
  ])('%s: a word, a fraction, zero or too many seconds is refused in one sentence', (variable, sentence) => {
    for (const value of ['ten', '1.5', '0', '-5', '99999'])
      expect(problems({ [variable]: value }), value).toEqual([expect.objectContaining({ variable, message: sentence })]);
  });

  it('refuses a lease that does not outlast the checks and the post, naming the minimum', () => {
    expect(problems({ BWPREP_DIGEST_LEASE_SECONDS: '120' })).toEqual([
      expect.objectContaining({
        variable: 'BWPREP_DIGEST_LEASE_SECONDS',
        message: `BWPREP_DIGEST_LEASE_SECONDS must be at least ${120 + DIGEST_POST_ALLOWANCE_SECONDS} seconds: a replica holds a digest's lease while the checks run (up to BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS, now 120) and the digest is posted (up to ${DIGEST_POST_ALLOWANCE_SECONDS} seconds).`,
      }),
    ]);
    // Raising only the check timeout refuses the default lease, and says what the lease must become.
    expect(problems({ BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS: '900' })[0]?.message).toMatch(/^BWPREP_DIGEST_LEASE_SECONDS must be at least 960 seconds/);
    expect(loadConfig({ BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS: '900', BWPREP_DIGEST_LEASE_SECONDS: '960' }).scheduler.digestLeaseMs).toBe(960_000);
    expect(
      loadConfig({ BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS: '1', BWPREP_DIGEST_LEASE_SECONDS: String(1 + DIGEST_POST_ALLOWANCE_SECONDS) }).scheduler.digestLeaseMs,
    ).toBe(61_000);
  });

  it('a check timeout that is itself wrong is the only problem named (the lease is not blamed for it)', () => {
    expect(problems({ BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS: '5000' }).map((p) => p.variable)).toEqual(['BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS']);
    expect(problems({ BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS: 'soon' }).map((p) => p.variable)).toEqual(['BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS']);
  });

  it('says it in Dutch too', () => {
    let nl = '';
    try {
      loadConfig({ BWPREP_DIGEST_LEASE_SECONDS: '90' });
    } catch (e) {
      nl = (e as ConfigError).render('nl');
    }
    expect(nl).toContain(
      '  - BWPREP_DIGEST_LEASE_SECONDS moet minstens 180 seconden zijn: een replica houdt de lease van het dagelijkse overzicht vast zolang de controles lopen (hooguit BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS, nu 120) en het overzicht wordt geplaatst (hooguit 60 seconden).',
    );
  });
});
