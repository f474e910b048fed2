import { describe, expect, it } from 'vitest';
import { createLogger, type Logger, scrub } from '../../src/logging/logger';

const BOT_TOKEN = 'xoxb-0000000000-1111111111-fakeBotTokenValue';
const APP_TOKEN = 'xapp-1-A0FAKE-2222-fakeAppTokenValue';
const SIGNING_SECRET = 'fakesigningsecret0123456789abcdef';
const BW_CLIENT_SECRET = 'FakeBwClientSecretValue42';
const SECRETS = [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, BW_CLIENT_SECRET];

function capture(level = 'debug'): { logger: Logger; output: () => string } {
  const chunks: string[] = [];
  const logger = createLogger({ level, secrets: SECRETS, destination: { write: (s: string) => void chunks.push(s) } });
  return { logger, output: () => chunks.join('') };
}

function expectNoSecrets(out: string): void {
  expect(out.length).toBeGreaterThan(0);
  for (const s of SECRETS) expect(out).not.toContain(s);
}

describe('logger redaction', () => {
  it('censors secrets under known field names, at the top level and one level down', () => {
    const { logger, output } = capture();
    logger.info({ token: BOT_TOKEN, clientSecret: BW_CLIENT_SECRET, slack: { signingSecret: SIGNING_SECRET, appToken: APP_TOKEN } }, 'starting');
    expectNoSecrets(output());
    expect(JSON.parse(output())).toMatchObject({ token: '[REDACTED]', clientSecret: '[REDACTED]', slack: { signingSecret: '[REDACTED]' }, msg: 'starting' });
  });

  it('masks a configured secret deep inside an object under an unexpected name', () => {
    const { logger, output } = capture();
    logger.info({ config: { nested: { deeper: { value: BW_CLIENT_SECRET, list: [SIGNING_SECRET] } } } }, 'debug dump');
    expectNoSecrets(output());
    expect(output()).toContain('debug dump');
  });

  it('masks a secret inside an error message and stack', () => {
    const { logger, output } = capture();
    const err = new Error(`identity rejected client_secret ${BW_CLIENT_SECRET} for token ${BOT_TOKEN}`);
    logger.error({ err }, 'token request failed');
    expectNoSecrets(output());
    expect(output()).toContain('token request failed');
    expect(output()).toContain('identity rejected');
  });

  it('masks a secret in an error passed as the only argument, and in its cause', () => {
    const { logger, output } = capture();
    logger.error(new Error('outer failure', { cause: new Error(`inner: ${SIGNING_SECRET}`) }));
    expectNoSecrets(output());
  });

  it('masks a secret in a free-text message and in printf-style arguments', () => {
    const { logger, output } = capture();
    logger.warn(`tried token ${BOT_TOKEN} and secret ${BW_CLIENT_SECRET}`);
    logger.info('app token is %s', APP_TOKEN);
    expectNoSecrets(output());
    expect(output().trim().split('\n')).toHaveLength(2);
  });

  it('masks token-shaped strings it was not told about (a library echoing another workspace token)', () => {
    const chunks: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => void chunks.push(s) } });
    logger.info({ body: 'token=xoxb-9999-8888-unknownFakeToken&x=1', header: 'Bearer eyFAKE.jwt.value' }, 'slack said xoxp-7777-unknownUserToken');
    const out = chunks.join('');
    expect(out).not.toContain('unknownFakeToken');
    expect(out).not.toContain('unknownUserToken');
    expect(out).not.toContain('eyFAKE.jwt.value');
  });

  it('masks secrets in child logger bindings', () => {
    const { logger, output } = capture();
    logger.child({ requestBody: `client_id=organization.x&client_secret=${BW_CLIENT_SECRET}` }).info('posting');
    expectNoSecrets(output());
  });

  it('still writes ordinary fields untouched, as one JSON line with level label and service', () => {
    const { logger, output } = capture();
    logger.info({ rolloutId: 'slack:T1:C1', step: '2a' }, 'step done');
    expect(JSON.parse(output())).toMatchObject({ level: 'info', service: 'bwprep', rolloutId: 'slack:T1:C1', step: '2a', msg: 'step done' });
  });

  it('respects the level', () => {
    const { logger, output } = capture('warn');
    logger.info({ token: BOT_TOKEN }, 'quiet');
    expect(output()).toBe('');
  });
});

describe('scrub', () => {
  it('masks known secrets and token shapes in free text, and ignores secrets too short to be safe to match', () => {
    expect(scrub(`a ${BW_CLIENT_SECRET} b`, [BW_CLIENT_SECRET])).toBe('a [REDACTED] b');
    expect(scrub('xoxb-123-abc')).toBe('xoxb-[REDACTED]');
    expect(scrub('the word abc stays', ['abc'])).toBe('the word abc stays');
  });
});

describe('path-based redaction covers secrets nobody configured', () => {
  it("censors a rollout's own client secret by its field name, though it is in no configured-secrets list", () => {
    const chunks: string[] = [];
    // No known secret values at all: only the field names protect this line.
    const logger = createLogger({ level: 'info', secrets: [], destination: { write: (s: string) => void chunks.push(s) } });
    const perRollout = 'PerRolloutFakeSecret-not-in-config-77';
    logger.info({ rolloutId: 'slack:T1:C1', credentials: { clientId: 'organization.fake', clientSecret: perRollout } }, 'setup saved');
    logger.info({ clientSecret: perRollout }, 'top level');
    const out = chunks.join('');
    expect(out).toContain('setup saved');
    expect(out).not.toContain(perRollout);
    expect(out.match(/\[REDACTED\]/g)?.length).toBe(2);
  });
});
