import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  collectionSchema,
  configSchema,
  eventPageSchema,
  groupSchema,
  listSchema,
  memberSchema,
  oauthErrorSchema,
  policySchema,
  publicErrorSchema,
  subscriptionSchema,
  tokenResponseSchema,
} from '../../src/bitwarden/schemas';
import { validateSetup } from '../../src/core/checklist/settings';
import { validateTemplate } from '../../src/core/checklist/template';
import { runTemplateValidate } from '../../src/cli/template';
import { makeRollout } from '../store/fixtures';
import { expectLocalizedMessage, RUNS } from './localized';

const NOW = new Date('2026-11-25T09:00:00.000Z');

describe('fuzz: setup form values (a Slack view_submission, a Teams card)', () => {
  const text = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom(
      '',
      ' ',
      '08:30',
      '24:00',
      '9:00',
      'Europe/Amsterdam',
      'UTC',
      'utc',
      'Mars/Base',
      '2026-12-18',
      '2020-01-01',
      '2026-02-30',
      '50',
      '0',
      '101',
      '3,5',
      '1e2',
      'NaN',
      'self-hosted',
      'cloud-eu',
      'https://vault.example.invalid',
      'http://x',
      'organization.3f2a1b4c-0000-4000-8000-123456789abc',
      'nl',
      'en',
      'de',
    ),
  );
  const input = fc.record(
    {
      locale: text,
      hosting: text,
      serverUrl: text,
      clientId: text,
      clientSecret: text,
      digestTime: text,
      timezone: text,
      weekdays: fc.array(fc.oneof(text, fc.constantFrom('1', '7', '8', '0', '-1', '2.5')), { maxLength: 8 }),
      goLive: text,
      admins: fc.array(fc.constantFrom('slack:U0ALICE', 'slack:U0BOB', 'teams:abc'), { maxLength: 3 }),
      desiredPolicies: fc.array(fc.oneof(text, fc.constantFrom('0', '8', '-3', '1.5')), { maxLength: 6 }),
      digestEnabled: fc.boolean(),
      extensionPassPct: text,
      onboardingPassPct: text,
      onboardingWarnPct: text,
      minOwners: text,
    },
    { requiredKeys: [] },
  );

  it('never throws; every error is a localized message on a field; a valid form yields valid settings', () => {
    const current = makeRollout().settings;
    fc.assert(
      fc.property(input, (form) => {
        const r = validateSetup(form, current, NOW);
        for (const [field, msg] of Object.entries(r.errors)) expectLocalizedMessage(msg, `setup field ${field}`);
        if (Object.keys(r.errors).length) {
          expect(r.patch).toEqual({});
          expect(r.newKey).toBeUndefined();
          return;
        }
        const p = r.patch;
        if (p.digestTime !== undefined) expect(p.digestTime).toMatch(/^([01]\d|2[0-3]):[0-5]\d$/);
        if (p.weekdays) for (const d of p.weekdays) expect(Number.isInteger(d) && d >= 1 && d <= 7).toBe(true);
        if (p.thresholds) expect(p.thresholds.onboardingWarnPct).toBeLessThanOrEqual(p.thresholds.onboardingPassPct);
        if (p.desiredPolicies) for (const n of p.desiredPolicies) expect(Number.isInteger(n) && n >= 0).toBe(true);
      }),
      RUNS(500),
    );
  });
});

const BUILT_IN = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'templates', 'prepare-for-production.json'), 'utf8')) as Record<string, unknown>;

/** The built-in template with one random change deep inside: a key dropped or a value replaced by arbitrary JSON. */
const mutatedTemplate = fc.tuple(fc.nat(), fc.nat(), fc.boolean(), fc.jsonValue({ maxDepth: 2 })).map(([a, b, drop, value]) => {
  const t = structuredClone(BUILT_IN) as Record<string, unknown>;
  const steps = t.steps as Record<string, unknown>[];
  const target: Record<string, unknown> = a % 3 === 0 ? t : (steps[a % steps.length] as Record<string, unknown>);
  const keys = Object.keys(target);
  const key = keys[b % keys.length] as string;
  if (drop) delete target[key];
  else target[key] = value;
  return t;
});

describe('fuzz: the template validator (bwprep template validate)', () => {
  it('never throws; an invalid template lists problems with a path and a message', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 3 }), mutatedTemplate), (data) => {
        const r = validateTemplate(data);
        if (r.ok) return;
        expect(r.problems.length).toBeGreaterThan(0);
        for (const p of r.problems) {
          expect(p.path.length).toBeGreaterThan(0);
          expect(p.message.length).toBeGreaterThan(0);
        }
      }),
      RUNS(300),
    );
  });

  it('the CLI answers any file content with exit 0, 1 or 2 and a message in the chosen language', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          mutatedTemplate.map((t) => JSON.stringify(t)),
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
        ),
        fc.constantFrom('en', 'nl'),
        (content, lang) => {
          let out = '';
          const code = runTemplateValidate(['t.json', '--lang', lang], {
            env: {},
            stdout: (s) => (out += s),
            stderr: (s) => (out += s),
            readFile: () => content,
          });
          expect([0, 1, 2]).toContain(code);
          expect(out.trim().length).toBeGreaterThan(0);
          expect(out).not.toMatch(/cli\.template\./); // no raw key
          // No unfilled placeholder (a '{{' the file itself holds, echoed as its name or a value, is the user's text).
          if (!content.includes('{{')) expect(out).not.toMatch(/\{\{/);
        },
      ),
      RUNS(200),
    );
  });
});

describe('fuzz: Bitwarden response schemas', () => {
  const schemas = {
    token: tokenResponseSchema,
    oauthError: oauthErrorSchema,
    members: listSchema(memberSchema),
    groups: listSchema(groupSchema),
    collections: listSchema(collectionSchema),
    policies: listSchema(policySchema),
    events: eventPageSchema,
    config: configSchema,
    subscription: subscriptionSchema,
    publicError: publicErrorSchema,
  };
  /** Near-valid shapes: a list whose items are arbitrary records with the real field names. */
  const fields = [
    'id',
    'userId',
    'email',
    'name',
    'type',
    'status',
    'twoFactorEnabled',
    'collections',
    'groups',
    'date',
    'device',
    'enabled',
    'data',
    'object',
    'continuationToken',
    'externalId',
    'resetPasswordEnrolled',
    'readOnly',
    'manage',
  ];
  const value = fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom('2026-08-20T14:03:11.123', '2026-13-45', '', null, -1, 1e308, 'not a date'));
  const nearValid = fc.record({
    object: fc.constantFrom('list', 'member', undefined),
    data: fc.oneof(fc.constant(null), fc.array(fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 8 }), { maxLength: 3 })),
    continuationToken: fc.option(fc.string({ maxLength: 5 })),
  });

  it('safeParse never throws on any JSON, and what it accepts has the documented shape', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 3 }), nearValid), (json) => {
        for (const [name, schema] of Object.entries(schemas)) {
          const r = (schema as { safeParse(x: unknown): { success: boolean; data?: unknown } }).safeParse(json);
          if (r.success && 'data' in (r.data as object) && name !== 'token')
            expect(Array.isArray((r.data as { data?: unknown }).data) || (r.data as { data?: unknown }).data === undefined).toBe(true);
        }
      }),
      RUNS(400),
    );
  });
});

describe('fuzz: the Bitwarden client over HTTP, any response body', () => {
  it('a run with one endpoint answering arbitrary JSON gives results or a localized refusal, never a crash', async () => {
    const { startFakeBitwarden } = await import('../fakes/bitwarden-server');
    const { readyOrg } = await import('../fixtures/bitwarden');
    const { expectLocalizedRefusal } = await import('./localized');
    const { makeVerification, ALL_STEPS } = await import('../bitwarden/helpers');
    const server = await startFakeBitwarden();
    try {
      const endpoint = fc.constantFrom(
        '/connect/token',
        '/config',
        '/public/members',
        '/public/groups',
        '/public/collections',
        '/public/policies',
        '/public/events',
        '/public/organization/subscription',
      );
      const body = fc.oneof(
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
        fc.string({ maxLength: 30 }),
        fc.constant('{"object":"list","data":[{"object":"member",'),
      );
      await fc.assert(
        fc.asyncProperty(endpoint, body, async (p, b) => {
          server.clearFaults();
          server.load(readyOrg(NOW));
          server.fault({ path: p, kind: 'malformed', body: b });
          try {
            const results = await makeVerification(server, 'cloud-us', { retry: { baseDelayMs: 1, maxAttempts: 1 } }).run(ALL_STEPS);
            for (const r of Object.values(results)) expect(['pass', 'fail', 'warn', 'manual', 'error', 'not_applicable']).toContain(r.status);
          } catch (e) {
            expectLocalizedRefusal(e);
          }
        }),
        RUNS(25),
      );
    } finally {
      await server.stop();
    }
  });
});
