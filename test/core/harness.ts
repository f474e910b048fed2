import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Actor,
  type AuditEntry,
  type ConversationRef,
  DEFAULT_DESIRED_POLICIES,
  DEFAULT_THRESHOLDS,
  type Hosting,
  type Rollout,
  type RolloutSettings,
} from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import type { Template } from '../../src/core/checklist/template';
import type { RolloutStore } from '../../src/core/ports';
import { openStore } from '../../src/store';
import { loadTemplate } from '../../src/templates';
import { MemoryStore } from '../fakes/memory-store';

/** The stores every service test runs against: the in-memory fake of the port, and the real SQLite store. */
export const STORE_KINDS = ['memory', 'sqlite'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export const TEMPLATE: Template = loadTemplate();

/** A clock the test moves by hand. */
import { TestClock as FakeClock } from '../helpers/clock';

export { FakeClock };

export const CONVERSATION: ConversationRef = { platform: 'slack', workspace: 'T0TEST', channel: 'C0ROLLOUT', name: 'bitwarden-rollout' };

/** The rollout's creator becomes its admin. */
/** A rollout's settings as a fresh cloud-EU rollout has them (the baseline a setup form is validated against). */
export const SETTINGS: RolloutSettings = {
  locale: 'en',
  hosting: 'cloud-eu',
  timezone: 'Europe/Amsterdam',
  digestTime: '09:00',
  weekdays: [1, 2, 3, 4, 5],
  admins: ['slack:U0ADA'],
  desiredPolicies: [...DEFAULT_DESIRED_POLICIES],
  thresholds: { ...DEFAULT_THRESHOLDS },
  digestEnabled: true,
};

export const ADMIN: Actor = { user: 'slack:U0ADMIN', surface: 'slack', name: 'Ada' };
export const OWNER: Actor = { user: 'slack:U0OWNER', surface: 'slack', name: 'Olga' };
export const OTHER: Actor = { user: 'slack:U0OTHER', surface: 'teams', name: 'Otto' };
export const STRANGER: Actor = { user: 'slack:U0STRANGER', surface: 'slack', name: 'Sam' };

export interface Harness {
  kind: StoreKind;
  service: ChecklistService;
  clock: FakeClock;
  rollouts: RolloutStore;
  audit(rolloutId: string): Promise<AuditEntry[]>;
  /** Creates the test conversation's rollout (as ADMIN). */
  rollout(): Promise<Rollout>;
  close(): Promise<void>;
}

export async function makeHarness(kind: StoreKind, opts: { hosting?: Hosting; globalAdmins?: string[]; template?: Template } = {}): Promise<Harness> {
  const clock = new FakeClock();
  let rollouts: RolloutStore;
  let audit: (id: string) => Promise<AuditEntry[]>;
  let close: () => Promise<void>;
  if (kind === 'memory') {
    const mem = new MemoryStore();
    rollouts = mem;
    audit = (id) => mem.audit.list(id);
    close = async () => undefined;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'bwprep-core-'));
    const store = await openStore(`sqlite://${join(dir, 'bwprep.sqlite')}`);
    rollouts = store.rollouts;
    audit = (id) => store.audit.list(id);
    close = async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const service = new ChecklistService({
    store: rollouts,
    template: opts.template ?? TEMPLATE,
    clock,
    defaults: {
      locale: 'en',
      hosting: opts.hosting ?? 'cloud-eu',
      ...(opts.hosting === 'self-hosted' ? { serverUrl: 'https://vault.example.test' } : {}),
      timezone: 'Europe/Amsterdam',
      digestTime: '09:00',
      weekdays: [1, 2, 3, 4, 5],
    },
    globalAdmins: opts.globalAdmins ?? [],
  });
  return { kind, service, clock, rollouts, audit, rollout: () => service.ensureRollout(CONVERSATION, ADMIN), close };
}

/** A CheckRecord for recordChecks. */
export function check(status: 'pass' | 'fail' | 'warn' | 'manual' | 'error', at = '2026-11-25T10:00:00.000Z') {
  return { status, summary: { key: `test.check.${status}` }, evidence: { endpoint: 'GET /public/policies', counts: { enabled: 1 } }, at };
}

/** Awaits a promise that must reject with a BwprepError; returns the error for further asserts. */
export async function rejection(
  p: Promise<unknown>,
): Promise<{ code: string; userMessage: { key: string; vars?: Record<string, unknown> }; usage?: { key: string } }> {
  try {
    await p;
  } catch (e) {
    return e as never;
  }
  throw new Error('expected the promise to reject');
}
