import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheckCommand } from '../../src/cli/check';
import { CHECK_STATUSES } from '../../src/core/checklist/model';
import { type FakeBitwardenServer, startFakeBitwarden } from '../fakes/bitwarden-server';
import { FAKE_SECRET, halfDoneOrg, readyOrg, selfHostedOrg, vaultwardenOrg } from '../fixtures/bitwarden';

// The CLI reads real time; fixtures are built around it.
const now = () => new Date();

let server: FakeBitwardenServer;
beforeAll(async () => {
  server = await startFakeBitwarden();
});
afterAll(async () => {
  await server.stop();
});

function cloudEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    BW_REGION: 'us',
    BW_API_URL: server.url,
    BW_IDENTITY_URL: `${server.url}/identity`,
    BW_CLIENT_ID: server.clientId,
    BW_CLIENT_SECRET: FAKE_SECRET,
    ...extra,
  };
}

async function cli(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const code = await runCheckCommand(argv, {
    env,
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    retry: { baseDelayMs: 1 },
    timeouts: { headersMs: 2_000 },
  });
  return { code, stdout, stderr };
}

describe('bwprep check', () => {
  it('exit 0 and exactly {"results":[{step,status,summary,evidence}]} with --json for a ready org', async () => {
    server.load(readyOrg(now()));
    const r = await cli(['--json', '--lang', 'en'], cloudEnv());
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const parsed = JSON.parse(r.stdout) as { results: Record<string, unknown>[] };
    expect(Object.keys(parsed)).toEqual(['results']);
    expect(parsed.results).toHaveLength(14);
    for (const row of parsed.results) {
      expect(Object.keys(row)).toEqual(['step', 'status', 'summary', 'evidence']);
      expect(CHECK_STATUSES).toContain(row.status);
      expect(typeof row.summary).toBe('string');
      expect(row.summary).not.toMatch(/^check\./);
    }
    expect(parsed.results.find((x) => x.step === '2a')).toMatchObject({
      status: 'pass',
      summary: 'All required policies are on (3): Require two-step login (0), Master password requirements (1), Single organization (3).',
      evidence: { endpoint: 'GET /public/policies', counts: { desired: 3, enabled: 3 } },
    });
  });

  it('exit 1 and a Dutch table when a check fails', async () => {
    server.load(halfDoneOrg(now()));
    const r = await cli(['--lang', 'nl'], cloudEnv());
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^Stap\s+Status\s+Resultaat$/);
    const row2a = lines.find((l) => l.startsWith('2a '))!;
    expect(row2a).toContain('✗ Mislukt');
    expect(row2a).toContain('Vereiste beleidsregels die niet aan staan (2 van 3): Vereisten hoofdwachtwoord (1), Eén organisatie (3)');
    expect(lines.find((l) => l.startsWith('3a '))).toContain('– Niet van toepassing');
    expect(lines.find((l) => l.startsWith('4d '))).toContain('! Waarschuwing');
    expect(lines.find((l) => l.startsWith('4b '))).toContain('Collecties die via geen enkele groep bereikbaar zijn (1): orphan-hr');
    expect(lines.find((l) => l.startsWith('5b '))).toContain('(16,7%)');
    // Columns line up: the status column starts at the same offset on every row.
    const rows = lines.filter((l) => /^\d[a-z]?\s+[✓✗!?⚠–] /.test(l));
    expect(rows).toHaveLength(14);
    const col = (l: string) => [...l].findIndex((_, i, a) => i > 0 && a[i - 1] === ' ' && a[i - 2] === ' ' && a[i] !== ' ');
    expect(new Set(rows.map(col)).size).toBe(1);
    expect(r.stdout).toContain('geslaagd: 1 · waarschuwingen: 5 · mislukt: 4 · met de hand controleren: 0 · niet van toepassing: 4 · niet gecontroleerd: 0');
  });

  it('--step checks one step (case-insensitive); an unknown step is a usage error', async () => {
    server.load(halfDoneOrg(now()));
    const r = await cli(['--step', '4A', '--json'], cloudEnv());
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { results: { step: string }[] }).results.map((x) => x.step)).toEqual(['4a']);
    const bad = await cli(['--step', '9z', '--lang', 'en'], cloudEnv());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('There is no step "9z"');
    const badJson = await cli(['--step', '9z', '--json', '--lang', 'nl'], cloudEnv());
    expect(badJson.code).toBe(2);
    expect(JSON.parse(badJson.stdout)).toEqual({ error: { code: 'unknown_step', message: expect.stringContaining('Er is geen stap "9z"') } });
  });

  it('--json is JSON on every error: a malformed BW_CLIENT_ID, a missing key, bad arguments', async () => {
    const malformed = await cli(['--json'], cloudEnv({ BW_CLIENT_ID: 'not-an-org-key' }));
    expect(malformed.code).toBe(2);
    expect(JSON.parse(malformed.stdout)).toEqual({ error: { code: 'invalid_setting', message: expect.stringContaining('BW_CLIENT_ID') } });
    // A settings problem speaks --lang too, like every other message of the run.
    const dutch = await cli(['--json', '--lang', 'nl'], cloudEnv({ BW_CLIENT_ID: 'not-an-org-key' }));
    const en = await cli(['--json', '--lang', 'en'], cloudEnv({ BW_CLIENT_ID: 'not-an-org-key' }));
    expect(JSON.parse(dutch.stdout).error.message).not.toBe(JSON.parse(en.stdout).error.message);
    expect(JSON.parse(dutch.stdout).error.message).toContain('BW_CLIENT_ID');
    const none = await cli(['--json', '--lang', 'en'], {});
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stdout)).toEqual({ error: { code: 'no_credentials', message: expect.stringContaining('BW_CLIENT_ID and BW_CLIENT_SECRET') } });
    for (const argv of [
      ['--json', '--frobnicate'],
      ['--json', '--step'],
      ['--json', '--lang', 'de'],
    ]) {
      const r = await cli(argv, {});
      expect(r.code, argv.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout), argv.join(' ')).toMatchObject({ error: { code: 'bad_usage' } });
    }
  });

  it('--lang applies to --help, unknown arguments and the usage line', async () => {
    const nl = await cli(['--help', '--lang', 'nl'], { BWPREP_LOCALE: 'en' });
    expect(nl.code).toBe(0);
    expect(nl.stdout).toContain('Afsluitcodes:');
    expect(nl.stdout).toContain('1  minstens één stap mislukt');
    const en = await cli(['--lang=en', '-h'], { BWPREP_LOCALE: 'nl' });
    expect(en.stdout).toContain('Exit codes:');
    expect(en.stdout).toContain('2  no step fails, but at least one could not be checked');
    const unknownNl = await cli(['--lang', 'nl', '--frobnicate'], { BWPREP_LOCALE: 'en' });
    expect(unknownNl.code).toBe(2);
    expect(unknownNl.stderr).toBe('Onbekend argument "--frobnicate".\nGebruik: bwprep check [--step ID] [--json] [--lang nl|en]\n');
    const unknownEn = await cli(['--frobnicate', '--lang', 'en'], {});
    expect(unknownEn.stderr).toBe('Unknown argument "--frobnicate".\nUsage: bwprep check [--step ID] [--json] [--lang nl|en]\n');
  });

  it('exit 2 on a refused key, with the localized reason and no secret', async () => {
    server.load({ ...readyOrg(now()), clientSecret: 'the-real-one-on-the-server' });
    const r = await cli(['--lang', 'en'], cloudEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refused the organization API key (invalid_client)');
    expect(r.stdout + r.stderr).not.toContain(FAKE_SECRET);
    const json = await cli(['--json', '--lang', 'nl'], cloudEnv());
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'bitwarden_auth', message: expect.stringContaining('weigert de API-sleutel') } });
  });

  it('exit 2 when every Public API endpoint answers 5xx: each step says what failed', async () => {
    server.load(readyOrg(now()));
    server.fault({ path: /^\/public\//, kind: 'status', status: 503 });
    const r = await cli(['--lang', 'en'], cloudEnv());
    server.clearFaults();
    expect(r.code).toBe(2);
    const row = r.stdout.split('\n').find((l) => l.startsWith('2a '))!;
    expect(row).toContain('⚠ Could not check');
    expect(row).toContain('Not checked: GET /public/policies failed.');
    expect(row).toContain('server error (HTTP 503)');
    // 1a still passes on the granted token; the seat comparison is only an extra.
    expect(r.stdout.split('\n').find((l) => l.startsWith('1a '))).toContain('✓');
  });

  it('--json prints a result for every step when one endpoint fails (the subscription example), exit 0', async () => {
    server.load(readyOrg(now()));
    server.fault({
      path: '/public/organization/subscription',
      kind: 'status',
      status: 500,
      body: JSON.stringify({ message: 'An error occurred while retrieving the subscription details.' }),
    });
    const r = await cli(['--json', '--lang', 'en'], cloudEnv());
    server.clearFaults();
    const rows = (JSON.parse(r.stdout) as { results: { step: string; status: string; evidence: { detail?: Record<string, unknown> } }[] }).results;
    expect(rows).toHaveLength(14);
    expect(rows.find((x) => x.step === '1a')).toMatchObject({
      status: 'pass',
      evidence: { detail: { failedEndpoints: { subscription: { endpoint: 'GET /public/organization/subscription', error: 'bitwarden_unavailable' } } } },
    });
    expect(rows.every((x) => x.status !== 'error')).toBe(true);
    expect(r.code).toBe(0);
  });

  it('exit 1 when a check fails, even when another could not be done', async () => {
    server.load(halfDoneOrg(now()));
    server.fault({ path: '/public/collections', kind: 'malformed' });
    const r = await cli(['--json'], cloudEnv());
    server.clearFaults();
    const rows = (JSON.parse(r.stdout) as { results: { step: string; status: string; evidence: { endpoint?: string } }[] }).results;
    expect(rows.find((x) => x.step === '4a')).toMatchObject({ status: 'error', evidence: { endpoint: 'GET /public/collections' } });
    expect(rows.find((x) => x.step === '2a')!.status).toBe('fail');
    expect(r.code).toBe(1);
  });

  it('exit 2 on a configuration problem, and without credentials', async () => {
    const half = await cli([], { BW_CLIENT_ID: 'organization.4f1c2a3b-0000-4000-8000-00000000a001' });
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('BW_CLIENT_SECRET');
    const none = await cli(['--lang', 'en'], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('BW_CLIENT_ID and BW_CLIENT_SECRET');
    // A terminal user is not sent to a chat command.
    expect(none.stderr).not.toContain('/bwprep');
    const noneNl = await cli(['--lang', 'nl'], {});
    expect(noneNl.stderr).toContain('Zet BW_CLIENT_ID en BW_CLIENT_SECRET');
    const usage = await cli(['--frobnicate'], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('bwprep check [--step ID] [--json] [--lang nl|en]');
    expect(usage.stdout).toBe('');
  });

  it('checks a self-hosted server from BW_SERVER_URL, and refuses Vaultwarden', async () => {
    server.load(selfHostedOrg(now()));
    const env = { BW_REGION: 'self-hosted', BW_SERVER_URL: server.url, BW_CLIENT_ID: server.clientId, BW_CLIENT_SECRET: FAKE_SECRET };
    const r = await cli(['--json'], env);
    expect(r.code).toBe(0);
    const rows = (JSON.parse(r.stdout) as { results: { step: string; status: string }[] }).results;
    expect(rows.find((x) => x.step === '3b')!.status).toBe('pass');
    expect(rows.find((x) => x.step === '5a')!.status).toBe('warn');
    server.load(vaultwardenOrg());
    const vw = await cli(['--lang', 'en'], { ...env, BW_CLIENT_ID: server.clientId });
    expect(vw.code).toBe(2);
    expect(vw.stderr).toContain('Public API is not available');
  });

  it('defaults to BWPREP_LOCALE', async () => {
    server.load(readyOrg(now()));
    const r = await cli(['--step', '6'], cloudEnv({ BWPREP_LOCALE: 'en' }));
    expect(r.stdout.split('\n')[0]).toMatch(/^Step\s+Status\s+Result$/);
    expect(r.stdout).toContain('✓ Pass');
  });
});
