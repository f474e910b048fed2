import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { type SlackHarness, startSlackHarness } from './harness';

const { alice, bob } = FAKE_USERS;
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
let h: SlackHarness;
let n = 0;

async function command(text: string, user: string = alice) {
  const id = `c${++n}`;
  await h.send(slashCommand({ text, user_id: user, response_url: h.slack.responseUrl(id) }));
  return id;
}

beforeAll(async () => {
  h = await startSlackHarness();
  await command('status');
  await h.slack.waitFor('chat.postMessage');
  await command(`assign 2a <@${bob}>`);
  // A note that a spreadsheet would run as a formula.
  await command('done 2a =1+1 policies reviewed', bob);
  await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done'));
});
afterAll(async () => {
  await h?.close();
});

describe('/bwprep export', () => {
  it('uploads the CSV readiness report to the channel with every step, owner and state', async () => {
    await command('export csv', bob);
    const done = await h.slack.waitFor('files.completeUploadExternal', undefined, 5000);
    expect(done.args.channel_id).toBe(FAKE_CHANNEL_ID);
    const file = h.slack.files().find((f) => f.completed)!;
    expect(file.filename).toMatch(/^bwprep-readiness-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = file.content!.toString('utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines).toHaveLength(1 + 14);
    expect(lines[0]).toContain('Step,Phase,Title,Hours,State,Owner');
    expect(lines.find((l) => l.startsWith('2a,'))).toContain(`Done,${bob}`);
    expect(lines.find((l) => l.startsWith('6,'))).toContain(',Open,');
    expect(lines.find((l) => l.startsWith('3a,'))).toContain('Not applicable');
    // Formula injection: the note stays text in a spreadsheet.
    expect(lines.find((l) => l.startsWith('2a,'))).toContain(",'=1+1 policies reviewed,");
  });

  it('uploads Markdown in the rollout language, with the audit trail', async () => {
    await command('lang nl');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.settings.locale).toBe('nl'));
    await command('export md');
    await h.slack.waitForCount('files.completeUploadExternal', 2, undefined, 5000);
    const md = h.slack
      .files()
      .filter((f) => f.completed)
      .at(-1)!;
    expect(md.filename).toMatch(/^bwprep-gereedheid-.*\.md$/);
    const text = md.content!.toString('utf8');
    expect(text).toContain('# Gereedheidsrapport Bitwarden');
    expect(text).toContain('Auditlog');
    expect(text).toContain('step.done 2a');
  });

  it('rejects an unknown format with the usage', async () => {
    const id = await command('export pdf');
    const r = await h.slack.waitForResponse(id);
    expect(String(r.body.text)).toContain('csv, md');
  });
});

describe('operations endpoints', () => {
  it('answers /healthz, /readyz and /metrics with the commands counted', async () => {
    expect((await fetch(`${h.app.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { store: 'ok' } });
    const metrics = await (await fetch(`${h.app.url}/metrics`)).text();
    expect(metrics).toMatch(/bwprep_commands_total\{platform="slack",command="status",outcome="ok"\} [1-9]/);
    expect(metrics).toContain('bwprep_handler_seconds_bucket');
  });
});
