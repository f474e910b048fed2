import { describe, expect, it } from 'vitest';
import type { Locale, Rollout } from '../../src/core/checklist/model';
import { DEFAULT_DESIRED_POLICIES, DEFAULT_THRESHOLDS } from '../../src/core/checklist/model';
import { checklistBlocks } from '../../src/slack/blocks/checklist';
import { homeView } from '../../src/slack/blocks/home';
import { mineBlocks } from '../../src/slack/blocks/messages';
import { buildMineView } from '../../src/views/text';
import { SLACK_LIMITS } from '../../src/slack/blocks/limits';
import { loadTemplate } from '../../src/templates';
import { buildChecklistView } from '../../src/views/checklist';
import { buildHomeView } from '../../src/views/home';

const template = loadTemplate();
const NOW = new Date('2026-11-25T09:00:00Z');

/** The heaviest card we can make: self-hosted (every step applies), every step owned, due, noted and checked. */
function worstCase(locale: Locale, id = 'slack:T0FAKE:C0FAKEROLL'): Rollout {
  const steps: Rollout['steps'] = {};
  for (const s of template.steps) {
    steps[s.id] = {
      id: s.id,
      state: s.id === '2a' ? 'failing' : 'done',
      owner: 'slack:U0SOMEBODYWITHALONGID',
      due: '2026-11-01',
      dueSource: 'manual',
      doneBy: 'slack:U0SOMEBODYWITHALONGID',
      note: 'n'.repeat(500),
      updatedAt: NOW.toISOString(),
      lastCheck: {
        status: 'fail',
        summary: { key: 'error.unknown_step', vars: { step: 'x'.repeat(900), steps: 'y'.repeat(900) } },
        evidence: { items: Array.from({ length: 50 }, (_, i) => `item-${i}`) },
        at: NOW.toISOString(),
      },
    };
  }
  return {
    id,
    conversation: {
      platform: 'slack',
      workspace: 'T0FAKE',
      channel: id.split(':')[2] ?? 'C0FAKEROLL',
      name: 'a-very-long-channel-name-for-a-rollout-of-bitwarden',
    },
    templateId: template.id,
    templateVersion: template.version,
    settings: {
      locale,
      hosting: 'self-hosted',
      serverUrl: 'https://vault.example.com',
      timezone: 'Europe/Amsterdam',
      digestTime: '09:00',
      weekdays: [1, 2, 3, 4, 5],
      admins: ['slack:U0ALICE'],
      desiredPolicies: [...DEFAULT_DESIRED_POLICIES],
      thresholds: { ...DEFAULT_THRESHOLDS },
      digestEnabled: true,
    },
    steps,
    digest: { history: [] },
    createdAt: NOW.toISOString(),
    createdBy: 'slack:U0ALICE',
    version: 1,
  };
}

type Block = Record<string, unknown> & { type: string };

function texts(block: Block): { kind: string; text: string }[] {
  const out: { kind: string; text: string }[] = [];
  const walk = (node: unknown, kind: string) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.type === 'button' && n.text && typeof (n.text as { text?: unknown }).text === 'string') {
      out.push({ kind: 'button', text: (n.text as { text: string }).text });
      return;
    }
    if ((n.type === 'mrkdwn' || n.type === 'plain_text') && typeof n.text === 'string') out.push({ kind, text: n.text });
    for (const v of Object.values(n)) {
      if (Array.isArray(v)) v.forEach((x) => walk(x, kind));
      else if (v && typeof v === 'object') walk(v, kind);
    }
  };
  walk(block, block.type);
  return out;
}

function assertWithinLimits(blocks: Block[], maxBlocks: number) {
  expect(blocks.length).toBeGreaterThan(0);
  expect(blocks.length).toBeLessThanOrEqual(maxBlocks);
  for (const b of blocks) {
    for (const { kind, text } of texts(b)) {
      if (kind === 'button') expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
      else if (kind === 'header') expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      else if (kind === 'context') expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
      else expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    }
    if (b.type === 'actions') expect((b.elements as unknown[]).length).toBeLessThanOrEqual(SLACK_LIMITS.actionsElements);
  }
  const ids = blocks.map((b) => b.block_id).filter(Boolean);
  expect(new Set(ids).size).toBe(ids.length);
}

describe('Block Kit limits of the rendered card', () => {
  for (const locale of ['en', 'nl'] as const) {
    it(`keeps the worst-case checklist card within Slack's message limits (${locale})`, () => {
      const blocks = checklistBlocks(buildChecklistView(template, worstCase(locale), NOW)) as unknown as Block[];
      assertWithinLimits(blocks, SLACK_LIMITS.messageBlocks);
      // Every step is on the card with its buttons, none dropped to fit.
      for (const s of template.steps) expect(blocks.some((b) => b.block_id === `step:${s.id}`)).toBe(true);
    });

    it(`keeps "mine" for an owner of every step within the limits, descriptions included (${locale})`, () => {
      const msg = mineBlocks(buildMineView(template, worstCase(locale), 'slack:U0SOMEBODYWITHALONGID', locale));
      assertWithinLimits(msg.blocks as unknown as Block[], SLACK_LIMITS.messageBlocks);
      const all = (msg.blocks as unknown as Block[])
        .map((b) =>
          texts(b)
            .map((x) => x.text)
            .join(''),
        )
        .join('');
      for (const step of template.steps) expect(all).toContain(step.description[locale]);
    });

    it(`keeps the App Home within 100 blocks for a user in many rollouts (${locale})`, () => {
      const rollouts = Array.from({ length: 40 }, (_, i) => worstCase(locale, `slack:T0FAKE:C0ROLL${i}`));
      const view = homeView(buildHomeView(template, rollouts, 'slack:U0SOMEBODYWITHALONGID', NOW, locale)) as unknown as { blocks: Block[] };
      assertWithinLimits(view.blocks, SLACK_LIMITS.homeBlocks);
    });
  }

  it('shows not-estimated for step 6 and the hours of the others on the card', () => {
    const view = buildChecklistView(template, worstCase('nl'), NOW);
    const six = view.phases.flatMap((p) => p.steps).find((s) => s.id === '6');
    const fourE = view.phases.flatMap((p) => p.steps).find((s) => s.id === '4e');
    expect(six?.hoursLabel).toBe('niet geschat');
    expect(fourE?.hoursLabel).toBe('1 uur');
    expect(view.phases.flatMap((p) => p.steps).find((s) => s.id === '4d')?.hoursLabel).toBe('0,75 uur');
  });
});
