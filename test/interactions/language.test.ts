import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { conversationKey } from '../../src/core/checklist/model';
import { ACTIONS } from '../../src/views/actions';
import { plainText } from '../../src/views/rich';
import { FakeBitwardenServer } from '../fakes/bitwarden-server';
import { policy, readyOrg } from '../fixtures/bitwarden';
import { ADA, BRAM, CONVERSATION, type LayerHarness, layer, resolveUser } from './harness';

/**
 * The language rule (README "Languages"), one test per path: what everyone in the conversation sees is
 * in the rollout's language; what one person sees (replies, help, mine, the setup form, DMs, App Home) is
 * in that person's language where the platform tells it, else the rollout's.
 *
 * The rollout is English. `nl` is a person whose platform says Dutch; `plain` is a person whose platform
 * tells no language.
 */

const ROLLOUT = conversationKey(CONVERSATION);
const NOW = new Date('2026-11-25T09:00:00.000Z');
let bw: FakeBitwardenServer;
let h: LayerHarness;

beforeAll(async () => {
  bw = await new FakeBitwardenServer().start();
});
afterAll(async () => {
  await bw.stop();
});
beforeEach(async () => {
  bw.load(readyOrg(NOW));
  h = await layer({ bw });
});
afterEach(async () => {
  await h.close();
});

async function people() {
  const plain = h.person(ADA, { admin: true });
  const nl = h.person(BRAM, { locale: 'nl', admin: true });
  await h.interactions.command(CONVERSATION, plain, 'status', resolveUser);
  return { plain, nl };
}

describe('private replies: the person’s language where the platform tells it, else the rollout’s', () => {
  it('help', async () => {
    const { plain, nl } = await people();
    await h.interactions.command(CONVERSATION, nl, 'help', resolveUser);
    await h.interactions.command(CONVERSATION, plain, 'help', resolveUser);
    expect(nl.texts()[0]).toMatch(/^bwprep: je checklist van Bitwarden-proefperiode naar productie/);
    expect(plain.texts()[0]).toMatch(/^bwprep: your Bitwarden trial-to-production checklist/);
  });

  it('mine', async () => {
    const { plain, nl } = await people();
    await h.interactions.command(CONVERSATION, nl, 'mine', resolveUser);
    await h.interactions.command(CONVERSATION, plain, 'mine', resolveUser);
    expect(nl.texts()[0]).toMatch(/^Jouw stappen in deze uitrol/);
    expect(plain.texts()[0]).toMatch(/^Your steps in this rollout/);
  });

  it('the notice after a command, and an error with its usage', async () => {
    const { plain, nl } = await people();
    await h.interactions.command(CONVERSATION, nl, 'done 2a', resolveUser);
    await h.interactions.command(CONVERSATION, plain, 'done 2b', resolveUser);
    await h.interactions.command(CONVERSATION, nl, 'done', resolveUser);
    expect(nl.texts()).toEqual(['Stap 2a is afgerond.', expect.stringMatching(/^Welke stap\? .*\nGebruik: done <stap>/)]);
    expect(plain.texts()).toEqual(['Step 2b is marked done.']);
    // The card, which everyone sees, stays English.
    expect(h.platform.updates.every((u) => u.view.locale === 'en')).toBe(true);
  });

  it('a card click: snooze and "nothing changed"', async () => {
    const { plain, nl } = await people();
    await h.interactions.cardAction(nl, { action: ACTIONS.snoozeStep, rolloutId: ROLLOUT, stepId: '4a' });
    await h.interactions.cardAction(plain, { action: ACTIONS.reopenStep, rolloutId: ROLLOUT, stepId: '4a' });
    expect(nl.texts()[0]).toMatch(/^Herinneringen voor stap 4a zijn uitgesteld tot /);
    expect(plain.texts()[0]).toMatch(/^Step 4a is already open/);
  });

  it('the setup form, and its errors', async () => {
    const { plain, nl } = await people();
    await h.interactions.command(CONVERSATION, nl, 'setup', resolveUser);
    await h.interactions.command(CONVERSATION, plain, 'setup', resolveUser);
    expect([nl.replies[0], plain.replies[0]].map((r) => r?.kind === 'setup' && r.form.locale)).toEqual(['nl', 'en']);
    const bad = await h.interactions.submitSetup(nl, ROLLOUT, { timezone: 'Mars/Olympus' });
    expect(bad.ok === false && plainText(bad.errors.timezone!)).toBe('"Mars/Olympus" is geen tijdzone. Gebruik een IANA-naam zoals Europe/Amsterdam.');
  });

  it('after lang nl, the setup form of a person whose language is unknown is Dutch (it follows the rollout)', async () => {
    const { plain } = await people();
    await h.interactions.command(CONVERSATION, plain, 'lang nl', resolveUser);
    await h.interactions.command(CONVERSATION, plain, 'setup', resolveUser);
    expect(plain.texts()[0]).toBe('Vanaf nu spreekt bwprep Nederlands in dit kanaal.');
    expect(plain.replies[1]).toMatchObject({ kind: 'setup', form: { locale: 'nl' } });
    await h.interactions.command(CONVERSATION, plain, 'lang en', resolveUser);
    await h.interactions.command(CONVERSATION, plain, 'setup', resolveUser);
    expect(plain.replies[3]).toMatchObject({ kind: 'setup', form: { locale: 'en' } });
  });

  it('the setup confirmation after a language change follows the new rollout language', async () => {
    const { plain, nl } = await people();
    const toNl = await h.interactions.submitSetup(plain, ROLLOUT, { locale: 'nl' });
    if (toNl.ok) await toNl.save();
    expect(plain.texts().at(-1)).toBe('Instellingen van deze uitrol opgeslagen.');
    const toEn = await h.interactions.submitSetup(nl, ROLLOUT, { locale: 'en' });
    if (toEn.ok) await toEn.save();
    expect(nl.texts().at(-1)).toBe('Instellingen van deze uitrol opgeslagen.');
  });

  it('a one-step check report goes to the clicker in their language; a full report to everyone in the rollout’s', async () => {
    const { plain, nl } = await people();
    await h.interactions.cardAction(nl, { action: ACTIONS.runCheck, rolloutId: ROLLOUT, stepId: '2a' });
    await h.interactions.cardAction(plain, { action: ACTIONS.runCheck, rolloutId: ROLLOUT, stepId: '2a' });
    expect(nl.texts()[0]).toMatch(/^Controle van stap 2a\n2a Beleidsconfiguratie nalopen: /);
    expect(plain.texts()[0]).toMatch(/^Verification of step 2a\n2a Review the policy configuration: /);
    await h.interactions.command(CONVERSATION, nl, 'check', resolveUser);
    expect(h.platform.reports.map((r) => r.view.locale)).toEqual(['en']);
  });

  it('a drift DM: the owner’s language, else the rollout’s', async () => {
    const { plain } = await people();
    await h.interactions.command(CONVERSATION, plain, 'assign 2a @ada', resolveUser);
    await h.interactions.command(CONVERSATION, plain, 'check', resolveUser);
    const org = readyOrg(NOW);
    bw.load({ ...org, policies: org.policies.map((p) => (p.type === 0 ? policy(0, false) : p)) });
    await h.interactions.command(CONVERSATION, plain, 'check', resolveUser);
    const dm = h.platform.dms[0]?.message;
    expect(dm?.kind === 'notice' && plainText(dm.lines[0]!)).toMatch(/^❌ Step 2a \(Review the policy configuration\) in #bitwarden-rollout no longer passes/);
  });

  it('the App Home, in the language the platform gives, else the default', async () => {
    const { plain } = await people();
    await h.interactions.command(CONVERSATION, plain, 'assign 2a @ada', resolveUser);
    expect(JSON.stringify(await h.interactions.home(ADA, plain.scope, 'nl'))).toContain('Beleidsconfiguratie nalopen');
    expect(JSON.stringify(await h.interactions.home(ADA, plain.scope))).toContain('Review the policy configuration');
  });
});

describe('what everyone sees: the rollout’s language', () => {
  it('the card, its retirement and the export, whoever asks', async () => {
    const { nl } = await people();
    await h.interactions.command(CONVERSATION, nl, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, nl, 'export md', resolveUser);
    expect(h.platform.posts.map((p) => p.view.locale)).toEqual(['en', 'en']);
    expect(h.platform.retired.map((r) => r.locale)).toEqual(['en']);
    const file = nl.replies.at(-1);
    expect(file?.kind === 'file' && file.file.content).toMatch(/^# Bitwarden readiness report/);
  });
});
