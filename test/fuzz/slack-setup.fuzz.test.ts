import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locale } from '../../src/core/checklist/model';
import { ACTIONS } from '../../src/views/actions';
import { FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, type SlackRequest, viewSubmission } from '../helpers/slack-requests';
import { postFirstCard, type SlackHarness, startSlackHarness, TestClock } from '../slack/harness';
import { expectLocalizedText, RUNS, FUZZ_TIMEOUT } from './localized';

/**
 * End-to-end fuzz over HTTP of the setup modal's submit: signed view_submission requests whose
 * `view.state.values` start from a valid form and have random blocks replaced by arbitrary shapes (strings,
 * numbers, objects, arrays with nulls, missing keys, `__proto__` keys, elements of another type), or no
 * state at all. The app answers 200 (or 400), logs no error, and either closes the modal (a normal save) or
 * shows localized messages on the modal's own fields in the submitter's language, having saved nothing.
 * Shrunk counterexamples live on as ordinary tests in test/slack/setup.e2e.test.ts. FC_SEED reproduces a run.
 */
const { alice, bob, carol } = FAKE_USERS; // alice nl-NL, bob en-GB: admins; carol en-US: not an admin
const LOCALE: Record<string, Locale> = { [alice]: 'nl', [bob]: 'en', [carol]: 'en' };
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
const ORG_ID = 'organization.00000000-0000-4000-8000-00000000f00d';
let h: SlackHarness;
let n = 0;
let logOffset = 0;

beforeAll(async () => {
  const clock = new TestClock(new Date('2026-11-25T07:30:00Z'));
  // Both admins by configuration: a saved form that drops one from the rollout's list keeps the run useful.
  h = await startSlackHarness({ clock, env: { BWPREP_ENCRYPTION_KEY: 'ab'.repeat(32), BWPREP_ADMINS: `slack:${alice},slack:${bob}` } });
  await postFirstCard(h, alice);
});
afterAll(async () => {
  await h?.close();
});

const opt = (value: string) => ({ text: { type: 'plain_text', text: value, emoji: true }, value });

/** Each block of the modal (slack/blocks/setup.ts): its element type, the key holding the answer, and valid answers. */
const BLOCKS: Record<string, { type: string; key: string; valid: fc.Arbitrary<unknown> }> = {
  locale: { type: 'static_select', key: 'selected_option', valid: fc.constantFrom('en', 'nl').map(opt) },
  hosting: { type: 'static_select', key: 'selected_option', valid: fc.constantFrom('cloud-eu', 'cloud-us').map(opt) },
  serverUrl: { type: 'plain_text_input', key: 'value', valid: fc.constant(null) },
  clientId: { type: 'plain_text_input', key: 'value', valid: fc.constant(ORG_ID) },
  clientSecret: { type: 'plain_text_input', key: 'value', valid: fc.constant('fake-bw-client-secret-fuzz') },
  digestEnabled: { type: 'checkboxes', key: 'selected_options', valid: fc.constantFrom([], [opt('on')]) },
  digestTime: { type: 'timepicker', key: 'selected_time', valid: fc.constantFrom('08:30', '17:00') },
  timezone: {
    type: 'plain_text_input',
    key: 'value',
    valid: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('Europe/Brussels', 'UTC') }, { weight: 1, arbitrary: fc.constant('Mars/Olympus_Mons') }),
  },
  weekdays: { type: 'checkboxes', key: 'selected_options', valid: fc.subarray(['1', '2', '3', '4', '5', '6', '7'], { minLength: 1 }).map((d) => d.map(opt)) },
  goLive: { type: 'datepicker', key: 'selected_date', valid: fc.constantFrom('2026-12-18', null) },
  admins: { type: 'multi_users_select', key: 'selected_users', valid: fc.constantFrom([alice, bob], [bob]) },
  desiredPolicies: { type: 'multi_static_select', key: 'selected_options', valid: fc.subarray(['0', '1', '8']).map((d) => d.map(opt)) },
  extensionPassPct: { type: 'number_input', key: 'value', valid: fc.constantFrom('70', null) },
  onboardingPassPct: { type: 'number_input', key: 'value', valid: fc.constantFrom('95', null) },
  onboardingWarnPct: { type: 'number_input', key: 'value', valid: fc.constantFrom('60', null) },
  minOwners: { type: 'number_input', key: 'value', valid: fc.constantFrom('3', null) },
};
const FIELDS = Object.keys(BLOCKS);

/** A value `JSON.parse` gives an own `__proto__` key (as Slack's JSON would), kept through JSON.stringify. */
const withProto = (inner: unknown) => JSON.parse(`{"__proto__":${JSON.stringify(inner)},"value":${JSON.stringify(inner)}}`) as unknown;

/** Arbitrary JSON where a block, an element or an answer should be. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant({}),
  fc.constant([]),
  fc.array(
    fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 4 }),
      fc.integer(),
      fc.record({ value: fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)) }, { requiredKeys: [] }),
    ),
    { maxLength: 3 },
  ),
  fc.dictionary(fc.constantFrom('a', 'value', 'type', 'selected_option', '__proto__'), fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)), {
    maxKeys: 3,
  }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.jsonValue({ maxDepth: 1 }).map(withProto),
);

type Mutation = { kind: 'keep'; answer: unknown } | { kind: 'drop' } | { kind: 'block' | 'element' | 'answer' | 'type' | 'protoAnswer'; junk: unknown };

/** What one block becomes. `certain`: Slack never sends that shape, so the field must be refused. */
function applyMutation(field: string, m: Mutation): { present: boolean; block?: unknown; certain: boolean } {
  const { type, key } = BLOCKS[field]!;
  switch (m.kind) {
    case 'keep':
      return { present: true, block: { value: { type, [key]: m.answer } }, certain: false };
    case 'drop':
      return { present: false, certain: true };
    case 'block':
      return { present: true, block: m.junk, certain: true };
    case 'element':
      return { present: true, block: { value: m.junk }, certain: true };
    case 'answer':
      return { present: true, block: { value: { type, [key]: m.junk } }, certain: false };
    case 'type':
      return { present: true, block: { value: { type: m.junk, [key]: null } }, certain: m.junk !== type };
    case 'protoAnswer':
      // The answer only under `__proto__`: an inherited-looking key that is no answer.
      return {
        present: true,
        block: { value: JSON.parse(`{"type":${JSON.stringify(type)},"__proto__":{${JSON.stringify(key)}:${JSON.stringify(m.junk ?? null)}}}`) as unknown },
        certain: false,
      };
  }
}

/** Anything but a valid answer: the block dropped, or junk where the block, the element or its answer goes. */
const breakage: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'drop' }),
  junk.map((j): Mutation => ({ kind: 'block', junk: j })),
  junk.map((j): Mutation => ({ kind: 'element', junk: j })),
  { weight: 2, arbitrary: junk.map((j): Mutation => ({ kind: 'answer', junk: j })) },
  fc
    .oneof(fc.constantFrom(...new Set(Object.values(BLOCKS).map((b) => b.type)), 'users_select', 'radio_buttons'), junk)
    .map((j): Mutation => ({ kind: 'type', junk: j })),
  junk.map((j): Mutation => ({ kind: 'protoAnswer', junk: j })),
);

/** The whole of `view.state`: usually the blocks, sometimes missing or not an object of blocks. */
const stateShape = fc.oneof(
  { weight: 12, arbitrary: fc.constant<'blocks'>('blocks') },
  { weight: 1, arbitrary: fc.constantFrom('missing', 'null', 'values-junk') },
);

const submission = fc.record({
  user: fc.constantFrom(alice, bob, bob, alice, carol),
  state: stateShape,
  stateJunk: junk,
  /** A valid answer in every block, then up to three blocks broken (none in about a quarter of the runs). */
  blocks: fc
    .tuple(
      fc.record(
        Object.fromEntries(FIELDS.map((f) => [f, BLOCKS[f]!.valid.map((answer): Mutation => ({ kind: 'keep', answer }))])) as Record<
          string,
          fc.Arbitrary<Mutation>
        >,
      ),
      fc.array(fc.tuple(fc.constantFrom(...FIELDS), breakage), { maxLength: 3 }),
    )
    .map(([valid, broken]) => ({ ...valid, ...Object.fromEntries(broken) })),
  extraBlock: fc.option(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'extra', ''), junk), { freq: 4 }),
});

type Submission = typeof submission extends fc.Arbitrary<infer T> ? T : never;

function build(s: Submission): { req: SlackRequest; unreadable: string[] } {
  const values: Record<string, unknown> = {};
  const unreadable: string[] = [];
  for (const f of FIELDS) {
    const b = applyMutation(f, s.blocks[f]!);
    if (b.present) values[f] = b.block;
    if (b.certain) unreadable.push(f);
  }
  const req = viewSubmission({ user: s.user, view: { callback_id: ACTIONS.setupSubmit, private_metadata: ROLLOUT, state: { values: {} } } });
  const p = structuredClone(req.payload);
  const view = p.view as Record<string, unknown>;
  // Blocks go in as JSON text so that a `__proto__` block id is an own key, as in Slack's JSON.
  const blocks = JSON.stringify(values).slice(1);
  const extra = s.extraBlock ? `${JSON.stringify(s.extraBlock[0])}:${JSON.stringify({ value: s.extraBlock[1] })}${blocks === '}' ? '' : ','}` : '';
  const valuesJson = `{${extra}${blocks}`;
  if (s.state === 'missing') delete view.state;
  else if (s.state === 'null') view.state = null;
  else if (s.state === 'values-junk')
    view.state = { values: Array.isArray(s.stateJunk) || typeof s.stateJunk !== 'object' || s.stateJunk === null ? s.stateJunk : [s.stateJunk] };
  else view.state = { values: '@@VALUES@@' };
  const body = JSON.stringify(p).replace('"@@VALUES@@"', () => valuesJson); // a function: `$&` in a value is text
  return {
    req: { ...req, payload: JSON.parse(body) as Record<string, unknown>, body: new URLSearchParams({ payload: body }).toString() },
    unreadable: s.state === 'blocks' ? unreadable : FIELDS,
  };
}

async function snapshot() {
  return { settings: (await h.app.service.get(ROLLOUT))?.settings, audit: (await h.app.store.audit.list(ROLLOUT)).length };
}

/** What the app logged since the last call. */
function newLogs(): string {
  const all = h.logs();
  const out = all.slice(logOffset);
  logOffset = all.length;
  return out;
}

describe('fuzz over HTTP: setup modal submissions with arbitrary state values', () => {
  it(
    'never a 500 or an error log: a normal save, or localized field errors and nothing saved',
    async () => {
      let saved = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(submission, async (s) => {
          n++;
          const { req, unreadable } = build(s);
          const before = await snapshot();
          const calls = h.slack.calls().length;
          const res = await h.send(req);
          if (process.env.FUZZ_DEBUG && res.status !== 200) console.log(n, res.status, req.body);
          expect([200, 400]).toContain(res.status);
          await h.app.slack!.idle();
          expect(
            newLogs()
              .split('\n')
              .filter((l) => /unexpected error|setup submission failed|"level":("error"|50)/.test(l)),
          ).toEqual([]);
          const body = (res.text ? res.body : {}) as { response_action?: string; errors?: Record<string, unknown> };
          if (res.status === 200 && body.response_action === 'errors') {
            refused++;
            if (process.env.FUZZ_DEBUG)
              console.log(
                s.user,
                s.state,
                Object.entries(s.blocks)
                  .filter(([, m]) => m.kind !== 'keep')
                  .map(([f, m]) => `${f}:${m.kind}`),
                body.errors,
              );
            const errors = body.errors ?? {};
            expect(Object.keys(errors).length).toBeGreaterThan(0);
            for (const [field, text] of Object.entries(errors)) {
              expect(FIELDS).toContain(field); // a block of the modal, or Slack rejects the whole answer
              expect(typeof text).toBe('string');
              expectLocalizedText(text as string, LOCALE[s.user], `error on ${field}`);
            }
            if (s.user === carol)
              expect(Object.keys(errors)).toEqual(['admins']); // not an admin: only that
            else for (const f of unreadable) expect(Object.keys(errors)).toContain(f);
            expect(await snapshot()).toEqual(before);
            expect(
              h.slack
                .calls()
                .slice(calls)
                .filter((c) => c.method.startsWith('chat.')),
            ).toEqual([]);
          } else if (res.status === 200) {
            // A save: the modal closes (empty ack); only a well-formed form gets here.
            expect(res.text).toBe('');
            expect(s.user).not.toBe(carol);
            expect(unreadable).toEqual([]);
            saved++;
          } else {
            expect(await snapshot()).toEqual(before);
          }
        }),
        RUNS(60),
      );
      if (process.env.FUZZ_DEBUG) console.log({ saved, refused });
    },
    FUZZ_TIMEOUT(120_000),
  );
});
