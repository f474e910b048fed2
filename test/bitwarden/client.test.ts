import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BitwardenClient } from '../../src/bitwarden/client';
import { type BwprepError, isBwprepError } from '../../src/core/errors';
import { render } from '../../src/i18n';
import { ACCESS_TOKEN_PREFIX, type FakeBitwardenServer, startFakeBitwarden, startTlsFakeBitwarden } from '../fakes/bitwarden-server';
import { FAKE_SECRET, readyOrg } from '../fixtures/bitwarden';
import { fakeEndpoints, makeVerification, memoryLogger, NOW, settingsFor, TestClock } from './helpers';

let server: FakeBitwardenServer;
beforeAll(async () => {
  server = await startFakeBitwarden();
});
afterAll(async () => {
  await server.stop();
});

/** Everything a user or operator could see of an error. */
function visible(e: unknown): string {
  if (!isBwprepError(e)) return String(e);
  const parts = [e.message, String(e), JSON.stringify(e), render('en', e.userMessage), render('nl', e.userMessage)];
  let cause: unknown = e.cause;
  for (let i = 0; i < 4 && cause; i++) {
    parts.push(String(cause), cause instanceof Error ? (cause.stack ?? '') : '');
    cause = (cause as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

async function failure(p: Promise<unknown>): Promise<BwprepError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isBwprepError(e)) throw new Error(`expected a BwprepError, got ${String(e)}`);
  return e;
}

const logs = memoryLogger();
const errors: BwprepError[] = [];
/** Rendered summaries and evidence of steps that came back `error` (for the secrets test). */
const stepErrors: string[] = [];

type Outcomes = Awaited<ReturnType<ReturnType<typeof makeVerification>['run']>>;

/** A step that could not be checked: its code, endpoint and the summary in both languages. */
function stepError(out: Outcomes, step: string): { code: string; endpoint: string | undefined; en: string; nl: string } {
  const o = out[step]!;
  expect(o.status, `${step} should be error`).toBe('error');
  const en = render('en', o.summary);
  const nl = render('nl', o.summary);
  stepErrors.push(en, nl, JSON.stringify(o));
  return { code: (o.evidence.detail as { error: string }).error, endpoint: o.evidence.endpoint, en, nl };
}

afterEach(() => {
  server.clearFaults();
});

describe('token', () => {
  it('is requested with the org key form fields, cached across runs and refreshed once on a 401', async () => {
    server.load(readyOrg(NOW));
    const h = makeVerification(server, 'cloud-us', { logger: logs.logger });
    await h.run(['4a']);
    const form = server.requests('POST', '/connect/token')[0]!.form!;
    expect(form).toMatchObject({ grant_type: 'client_credentials', scope: 'api.organization', client_id: server.clientId, deviceName: 'bwprep' });
    expect(form.deviceIdentifier).toMatch(/^[0-9a-f-]{36}$/);
    expect(form.deviceType).toBeDefined();

    h.clock.advance(10 * 60_000);
    await h.run(['4a']);
    expect(server.count('POST', '/connect/token')).toBe(1);

    // The server forgets the token (expired early): one 401, one new token, the request is retried.
    server.expireTokens();
    server.resetLog();
    const out = await h.run(['4a']);
    expect(out['4a']!.status).toBe('pass');
    expect(server.log.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(
      expect.arrayContaining(['GET /public/collections 401', 'POST /connect/token 200', 'GET /public/collections 200']),
    );
    expect(server.count('POST', '/connect/token')).toBe(1);
  });

  it('is renewed about a minute before it expires', async () => {
    server.load(readyOrg(NOW));
    const h = makeVerification(server, 'cloud-us');
    await h.run(['4a']);
    h.clock.advance(3600_000 - 61_000);
    await h.run(['4a']);
    expect(server.count('POST', '/connect/token')).toBe(1);
    h.clock.advance(2_000);
    await h.run(['4a']);
    expect(server.count('POST', '/connect/token')).toBe(2);
  });

  it('a 401 that survives a fresh token is an auth error, after exactly one refresh', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/collections', kind: 'status', status: 401, body: '' });
    const h = makeVerification(server, 'cloud-us', { logger: logs.logger });
    const e = await failure(h.run(['4a']));
    errors.push(e);
    expect(e.code).toBe('bitwarden_auth');
    expect(e.userMessage.key).toBe('bw.error.api_unauthorized');
    expect(server.count('POST', '/connect/token')).toBe(2);
    expect(server.count('GET', '/public/collections')).toBe(2);
  });

  it('invalid_client explains key, region and API access', async () => {
    server.load({ ...readyOrg(NOW), clientSecret: 'another-secret-on-the-server' });
    const h = makeVerification(server, 'cloud-us', { logger: logs.logger });
    const e = await failure(
      h.verification.verify({
        rolloutId: 'test',
        settings: settingsFor('cloud-us'),
        credentials: { clientId: server.clientId, clientSecret: FAKE_SECRET },
        stepIds: ['1a', '2a'],
      }),
    );
    errors.push(e);
    expect(e.code).toBe('bitwarden_auth');
    const en = render('en', e.userMessage);
    expect(en).toContain('invalid_client');
    expect(en).toContain('an EU key does not work against the US host');
    expect(en).toContain('API access');
    expect(render('nl', e.userMessage)).toContain('een EU-sleutel werkt niet op de Amerikaanse server');
    // The token endpoint is never retried, and no API call follows a refused key.
    expect(server.count('POST', '/connect/token')).toBe(1);
    expect(server.count('GET', /^\/public\//)).toBe(0);
  });

  it('invalid_client injected on the token endpoint', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/connect/token', kind: 'invalid-client' });
    const e = await failure(makeVerification(server, 'cloud-eu', { logger: logs.logger }).run(['1a']));
    errors.push(e);
    expect(e).toMatchObject({ code: 'bitwarden_auth', userMessage: { vars: { hosting: 'cloud-eu', error: 'invalid_client' } } });
  });
});

describe('faults', () => {
  it('429 with a short Retry-After is waited out and retried', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/members', kind: 'rate-limit', retryAfter: 1, times: 1 });
    const out = await makeVerification(server, 'cloud-us', { logger: logs.logger }).run(['4d']);
    expect(out['4d']!.status).toBe('pass');
    const reqs = server.requests('GET', '/public/members');
    expect(reqs.map((r) => r.status)).toEqual([429, 200]);
    // The retry came no sooner than the server asked (its own arrival timestamps; 1 s asked).
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(1000);
  });

  it('Retry-After as an HTTP date is honoured the same way', async () => {
    server.load(readyOrg(NOW));
    // The client's clock is the test clock (NOW): the date is 2 s after it.
    server.fault({ path: '/public/policies', kind: 'rate-limit', retryAfter: new Date(NOW.getTime() + 2_000).toUTCString(), times: 1 });
    const out = await makeVerification(server, 'cloud-us').run(['2a']);
    expect(out['2a']!.status).toBe('pass');
    const reqs = server.requests('GET', '/public/policies');
    expect(reqs.map((r) => r.status)).toEqual([429, 200]);
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(2000);
  });

  it('429 without Retry-After backs off exponentially within maxBackoffMs, then says what happened', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/members', kind: 'rate-limit' });
    const own = memoryLogger();
    const out = await makeVerification(server, 'cloud-us', { logger: own.logger, retry: { baseDelayMs: 40, maxBackoffMs: 70, maxRateLimitRetries: 3 } }).run([
      '4d',
      '2a',
    ]);
    const reqs = server.requests('GET', '/public/members');
    expect(reqs.map((r) => r.status)).toEqual([429, 429, 429, 429]);
    // 40 ms, then 80 capped to 70, then 70: no jitter, so the bound holds exactly.
    const waits = own.lines
      .map((l) => JSON.parse(l) as { msg: string; waitMs?: number })
      .filter((l) => l.msg === 'bitwarden rate limit without Retry-After, backing off')
      .map((l) => l.waitMs);
    expect(waits).toEqual([40, 70, 70]);
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(40);
    expect(reqs[3]!.at - reqs[2]!.at).toBeGreaterThanOrEqual(70);
    const e = stepError(out, '4d');
    expect(e.code).toBe('bitwarden_rate_limited');
    expect(e.en).toContain('without saying how long to wait');
    expect(e.en).toContain('tried 4 times');
    expect(e.en).not.toMatch(/wait \d+ s/);
    expect(e.nl).toContain('zonder te zeggen hoe lang');
    expect(out['2a']!.status).toBe('pass');
  });

  it('429 asking to wait longer than the cap gives up with rate_limited', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/members', kind: 'rate-limit', retryAfter: 120 });
    const e = stepError(await makeVerification(server, 'cloud-us', { logger: logs.logger }).run(['4d']), '4d');
    expect(e.code).toBe('bitwarden_rate_limited');
    expect(e.endpoint).toBe('GET /public/members');
    expect(e.en).toContain('asked to wait 120 s');
    expect(e.nl).toContain('Wacht een minuut');
    expect(server.count('GET', '/public/members')).toBe(1);
  });

  it('429 repeated beyond the retry budget gives up', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/members', kind: 'rate-limit', retryAfter: 0 });
    const e = stepError(await makeVerification(server, 'cloud-us', { retry: { baseDelayMs: 1, maxRateLimitRetries: 2 } }).run(['4d']), '4d');
    expect(e.code).toBe('bitwarden_rate_limited');
    expect(e.en).toContain('asked to wait 0 s');
    expect(server.count('GET', '/public/members')).toBe(3);
  });

  it('5xx is retried with backoff and succeeds', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/policies', kind: 'status', status: 503, times: 2 });
    const out = await makeVerification(server, 'cloud-us', { logger: logs.logger }).run(['2a']);
    expect(out['2a']!.status).toBe('pass');
    expect(server.requests('GET', '/public/policies').map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('5xx on every try ends after 3 tries with bitwarden_unavailable', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/policies', kind: 'status', status: 500 });
    const e = stepError(await makeVerification(server, 'cloud-us', { logger: logs.logger }).run(['2a']), '2a');
    expect(e.code).toBe('bitwarden_unavailable');
    expect(e.en).toContain('Not checked: GET /public/policies failed.');
    expect(e.en).toContain('HTTP 500');
    expect(e.nl).toContain('Niet gecontroleerd: GET /public/policies mislukte.');
    expect(server.count('GET', '/public/policies')).toBe(3);
  });

  it('a connection reset is retried', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/groups', kind: 'reset', times: 1 });
    const out = await makeVerification(server, 'cloud-us').run(['4c']);
    expect(out['4c']!.status).toBe('pass');
    expect(server.count('GET', '/public/groups')).toBe(2);
  });

  it('a connection that keeps breaking off makes only the steps reading that endpoint error, after 3 tries', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/groups', kind: 'reset' });
    const out = await makeVerification(server, 'cloud-us').run(['4a', '4c']);
    const e = stepError(out, '4c');
    expect(e.code).toBe('bitwarden_unavailable');
    expect(e.en).toContain('broke off while bwprep was reading /public/groups');
    expect(out['4a']!.status).toBe('pass');
    expect(server.count('GET', '/public/groups')).toBe(3);
  });

  it('a response slower than the timeout is bitwarden_timeout', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/policies', kind: 'slow', delayMs: 3_000 });
    const e = stepError(await makeVerification(server, 'cloud-us', { timeouts: { headersMs: 150, bodyMs: 150 }, logger: logs.logger }).run(['2a']), '2a');
    expect(e.code).toBe('bitwarden_timeout');
    expect(e.en).toContain('did not answer within 0.2 s');
    expect(e.nl).toContain('antwoordde niet binnen 0,2 s');
  });

  it('malformed JSON makes the affected checks "error" with a clear message, the rest still run', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/members', kind: 'malformed' });
    const out = await makeVerification(server, 'cloud-us', { logger: logs.logger }).run(['2a', '4d', '6']);
    expect(out['2a']!.status).toBe('pass');
    expect(out['4d']).toMatchObject({
      status: 'error',
      summary: { key: 'check.error_endpoint', vars: { endpoint: 'GET /public/members' } },
      evidence: { endpoint: 'GET /public/members', detail: { error: 'bitwarden_bad_response' } },
    });
    expect(out['6']!.status).toBe('error');
    expect(render('en', out['4d']!.summary)).toContain('sent an answer to /public/members that bwprep does not understand');
    // Parsed once, shared: one request for both checks.
    expect(server.count('GET', '/public/members')).toBe(1);
  });

  it('a body of the wrong shape is bitwarden_bad_response, not a crash', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/policies', kind: 'malformed', body: '{"object":"list","data":[{"type":"zero","enabled":"yes"}]}' });
    const out = await makeVerification(server, 'cloud-us').run(['2a']);
    expect(out['2a']).toMatchObject({ status: 'error', summary: { key: 'check.error_endpoint' }, evidence: { detail: { error: 'bitwarden_bad_response' } } });
    expect((out['2a']!.evidence.detail as { reason: string }).reason).toContain('data.0.type');
  });

  it('an unreachable server is bitwarden_unavailable', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const client = new BitwardenClient({
      endpoints: { hosting: 'cloud-us', apiUrl: `http://127.0.0.1:${closed}`, identityUrl: `http://127.0.0.1:${closed}/identity` },
      clientId: 'organization.4f1c2a3b-0000-4000-8000-00000000a001',
      clientSecret: FAKE_SECRET,
      logger: logs.logger,
    });
    const e = await failure(client.listMembers());
    errors.push(e);
    expect(e.code).toBe('bitwarden_unavailable');
    expect(render('en', e.userMessage)).toContain(`Cannot reach Bitwarden at 127.0.0.1:${closed}`);
    await client.close();
  });

  it('an unknown host is bitwarden_unavailable', async () => {
    const client = new BitwardenClient({
      endpoints: { hosting: 'self-hosted', apiUrl: 'http://bitwarden.invalid/api', identityUrl: 'http://bitwarden.invalid/identity' },
      clientId: 'organization.4f1c2a3b-0000-4000-8000-00000000a001',
      clientSecret: FAKE_SECRET,
    });
    const e = await failure(client.getConfig());
    expect(e.code).toBe('bitwarden_unavailable');
    await client.close();
  });

  it('404 with an empty body on a list endpoint says the address is wrong, for the steps that need it', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/collections', kind: 'status', status: 404 });
    const out = await makeVerification(server, 'cloud-us').run(['4a', '4d']);
    const e = stepError(out, '4a');
    expect(e.code).toBe('bitwarden_not_supported');
    expect(e.en).toContain(`${server.url}/public/collections does not exist (HTTP 404)`);
    expect(out['4d']!.status).toBe('pass');
  });

  it('only GETs are retried: a 500 from the token endpoint is not', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/connect/token', kind: 'status', status: 500 });
    const e = await failure(makeVerification(server, 'cloud-us').run(['4a']));
    expect(e.code).toBe('bitwarden_unavailable');
    expect(server.count('POST', '/connect/token')).toBe(1);
  });

  it('keeps to the per-organization concurrency limit', async () => {
    server.load(readyOrg(NOW));
    for (const p of ['/public/members', '/public/groups', '/public/collections', '/public/policies', '/public/organization/subscription', '/public/events']) {
      server.fault({ path: p, kind: 'slow', delayMs: 30, times: 1 });
    }
    const out = await makeVerification(server, 'cloud-us', { concurrency: 2 }).run();
    expect(out['4c']!.status).toBe('pass');
    expect(server.peakInFlight).toBe(2);
    server.load(readyOrg(NOW));
    for (const p of ['/public/members', '/public/groups', '/public/collections', '/public/policies', '/public/organization/subscription', '/public/events']) {
      server.fault({ path: p, kind: 'slow', delayMs: 30, times: 1 });
    }
    await makeVerification(server, 'cloud-us').run();
    expect(server.peakInFlight).toBe(4);
  });
});

describe('TLS', () => {
  // Set-up failures (no openssl, a server that cannot start) fail these tests; they never skip.
  let tls: Awaited<ReturnType<typeof startTlsFakeBitwarden>>;
  let tlsServer: FakeBitwardenServer;
  beforeAll(async () => {
    tls = await startTlsFakeBitwarden();
    tlsServer = tls.server;
    tlsServer.load(readyOrg(NOW));
  });
  afterAll(async () => {
    await tls?.close();
  });

  it('an unknown CA is bitwarden_tls pointing at BW_CA_FILE; with the CA file it works', async () => {
    const e = await failure(makeVerification(tlsServer, 'self-hosted', { logger: logs.logger }).run(['5a']));
    errors.push(e);
    expect(e.code).toBe('bitwarden_tls');
    expect(render('en', e.userMessage)).toContain('BW_CA_FILE');
    expect(render('nl', e.userMessage)).toContain('BW_CA_FILE');
    tlsServer.load(readyOrg(NOW));
    const ok = await makeVerification(tlsServer, 'self-hosted', { caFile: tls.caFile }).run(['5a', '3b']);
    expect(ok['5a']!.status).toBe('pass');
    expect(ok['3b']!.status).toBe('fail'); // the fixture is a cloud org
  });

  it('an unreadable CA file is a setting error', () => {
    expect(() =>
      makeVerification(server, 'self-hosted', { caFile: '/nonexistent/ca.pem' }).verification.clientFor(fakeEndpoints(server, 'self-hosted'), {
        clientId: 'x',
        clientSecret: 'y',
      }),
    ).toThrow(expect.objectContaining({ code: 'invalid_setting' }));
  });
});

describe('secrets', () => {
  it('never appear in a log line, an error message or its cause', async () => {
    // Its own scenarios (besides what the tests above collected), so it also holds when run alone.
    const own = memoryLogger();
    const run = (steps: string[], deps: Parameters<typeof makeVerification>[2] = {}) =>
      makeVerification(server, 'cloud-us', { logger: own.logger, ...deps }).run(steps);
    server.load(readyOrg(NOW));
    server.fault({ path: '/connect/token', kind: 'invalid-client', times: 1 });
    errors.push(await failure(run(['4a'])));
    server.fault({ path: '/public/policies', kind: 'status', status: 500 });
    stepError(await run(['2a']), '2a');
    server.clearFaults();
    server.fault({ path: '/public/members', kind: 'rate-limit', retryAfter: 300 });
    stepError(await run(['6']), '6');
    server.clearFaults();
    server.fault({ path: '/public/groups', kind: 'slow', delayMs: 2_000 });
    stepError(await run(['4c'], { timeouts: { headersMs: 100 } }), '4c');
    server.clearFaults();
    server.fault({ path: '/public/collections', kind: 'status', status: 401, body: '' });
    errors.push(await failure(run(['4a'])));
    server.clearFaults();
    await run(['4a', '5b']);
    expect(own.lines.length).toBeGreaterThan(10);
    const everything = [...logs.lines, ...own.lines, ...errors.map(visible), ...stepErrors].join('\n');
    expect(everything).not.toContain(FAKE_SECRET);
    expect(everything).not.toContain('another-secret-on-the-server');
    expect(everything).not.toContain(ACCESS_TOKEN_PREFIX);
    expect(everything).not.toMatch(/Bearer\s+\S/);
    // The log does record what happened.
    expect(everything).toContain('bitwarden token refused');
    expect(everything).toContain('bitwarden server error, retrying');
  });

  it('the client secret is not an enumerable property of the client, even when the endpoints object carries it', async () => {
    // The composition root may pass config.bitwarden (URLs + key) as the endpoints.
    const endpoints = { ...fakeEndpoints(server, 'cloud-us'), clientId: 'organization.x', clientSecret: FAKE_SECRET };
    const client = new BitwardenClient({ endpoints, clientId: 'organization.x', clientSecret: FAKE_SECRET, clock: new TestClock() });
    expect(JSON.stringify(client)).not.toContain(FAKE_SECRET);
    await client.close();
  });
});
