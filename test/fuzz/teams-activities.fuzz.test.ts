import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locale } from '../../src/core/checklist/model';
import { LOCALES_DIR, toLocale } from '../../src/i18n';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import type { ConnectorCall } from '../fakes/bot-connector';
import { reportToSecretGuard } from '../helpers/secret-guard';
import {
  type Activity,
  ANNA,
  BOB,
  FAKE_BOT,
  FAKE_CHANNEL,
  FAKE_GROUP_CHAT,
  FAKE_TENANT,
  GUEST,
  type PostResult,
  teamsCardAction,
  teamsConversationUpdate,
  teamsFileConsent,
  teamsInstallationUpdate,
  teamsMessage,
} from '../teams/activities';
import { FAKE_MS_APP_ID, FAKE_MS_APP_PASSWORD, startTeamsHarness, type TeamsHarness } from '../teams/harness';
import { expectLocalizedText, RUNS, FUZZ_TIMEOUT } from './localized';

/**
 * End-to-end fuzz of Teams activity decoding (issue 11 §2): arbitrary activities POSTed to the real app's
 * /api/messages, every outbound call recorded by the fake Bot Connector. For any input: no 5xx, no error
 * logged, no unhandled rejection; every notice a person is sent (a reply, a message in their personal chat,
 * an invoke's message) is made of catalogue strings in their language; every invoke answer is well formed.
 *
 * The main runs use TEAMS_ALLOW_UNAUTHENTICATED, so replies reach the fake connector (an authenticated bot
 * needs a real AAD token for each reply). The last block runs with MICROSOFT_APP_ID and a valid channel
 * token on every request (as test/teams/auth.e2e.test.ts signs them): the fuzzed activities pass
 * authentication and reach the handlers, for the activities whose answer needs no outbound call.
 * Run counts are small on purpose (CPU is scarce); FC_SEED reproduces a failure.
 */
const ROLLOUT = `teams:${FAKE_TENANT}:${FAKE_CHANNEL}`;
const NAMESPACES = new Set(Object.keys(JSON.parse(readFileSync(path.join(LOCALES_DIR, 'en.json'), 'utf8')) as object));
/** A language switch answers in the channel's new language, whatever the reader's. */
const NEW_LANGUAGE = ['notice.locale_set', 'notice.locale_unchanged'];
const TONE = /^(?:✅|ℹ️|⚠️|⏳|💤|❌)/u;
const INVOKE_TYPES = {
  card: 'application/vnd.microsoft.card.adaptive',
  message: 'application/vnd.microsoft.activity.message',
  error: 'application/vnd.microsoft.error',
  search: 'application/vnd.microsoft.search.searchResponse',
};

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

/** What a harness logged since the last look. */
function logReader(h: TeamsHarness): () => string {
  let offset = 0;
  return () => {
    const all = h.logs();
    const out = all.slice(offset);
    offset = all.length;
    return out;
  };
}

/** Log lines that show a failure we did not handle: error or fatal level, an unhandled or uncaught error. */
function failures(logs: string): string[] {
  return logs.split('\n').filter((l) => /"level":(?:"error"|"fatal"|50|60)|unhandled|uncaught/i.test(l));
}

/** The reader's language the app must answer a refusal in: the activity's locale, else clientInfo's; undefined when bwprep does not speak it. */
function readerLocale(a: Record<string, unknown>): Locale | undefined {
  const entities = Array.isArray(a.entities) ? (a.entities as unknown[]) : [];
  const info = entities.find((e) => !!e && typeof e === 'object' && (e as { type?: unknown }).type === 'clientInfo') as { locale?: unknown } | undefined;
  const raw = typeof a.locale === 'string' && a.locale ? a.locale : typeof info?.locale === 'string' ? info.locale : undefined;
  return toLocale(raw);
}

/**
 * Every string a delivered activity carried (names, titles, texts): a card may show what an earlier activity
 * sent (a person's name in the owner picker), and a name may look like a placeholder.
 */
const seenStrings = new Set<string>();
function rememberStrings(v: unknown): void {
  if (typeof v === 'string') seenStrings.add(v);
  else if (Array.isArray(v)) v.forEach(rememberStrings);
  else if (v && typeof v === 'object') Object.values(v).forEach(rememberStrings);
}

/** `{{…}}` in a visible text that no activity sent: an i18n placeholder left unfilled. */
function unfilledPlaceholders(text: string, sent: string): string[] {
  return [...text.matchAll(/\{\{[^{}]{0,60}\}\}|\{\{/g)].map((m) => m[0]).filter((p) => !sent.includes(p) && ![...seenStrings].some((x) => x.includes(p)));
}

/** Checks a text a person sees: a notice is catalogue strings in their language; nothing shows a raw key or an unfilled placeholder. */
function checkVisible(text: string, locale: Locale | undefined, sent: string, what: string): void {
  expect(unfilledPlaceholders(text, sent), what).toEqual([]);
  expect(text, what).not.toContain('[object Object]');
  const keys = [...text.matchAll(/(?<![\w./-])([a-z_]+)(\.[a-z0-9_]+)+\b/g)]
    .map((m) => m[0])
    .filter((k) => NAMESPACES.has(k.split('.')[0]!) && !sent.includes(k));
  expect(keys, `${what}: raw i18n keys`).toEqual([]);
  if (TONE.test(text)) expectLocalizedText(text, locale, what, NEW_LANGUAGE);
}

/** Checks an invoke's HTTP answer: a card or message (200), a search result (200), or a localized error (4xx). */
function checkInvokeAnswer(res: PostResult, locale: Locale | undefined, sent: string, name: unknown): void {
  const body = res.body as { statusCode?: unknown; type?: unknown; value?: unknown } | undefined;
  if (name === 'fileConsent/invoke' && res.status === 200 && body === undefined) return; // Teams wants a bare 200; the answer is a message.
  expect(body && typeof body === 'object', `invoke ${String(name)} answered ${res.status} without a body`).toBe(true);
  expect(body!.statusCode, 'invoke statusCode is the HTTP status').toBe(res.status);
  if (res.status === 200) {
    expect([INVOKE_TYPES.card, INVOKE_TYPES.message, INVOKE_TYPES.search]).toContain(body!.type);
    if (body!.type === INVOKE_TYPES.message) {
      expect(typeof body!.value).toBe('string');
      checkVisible(body!.value as string, locale, sent, `invoke ${String(name)} message`);
      expectLocalizedText(body!.value as string, locale, `invoke ${String(name)} message`, NEW_LANGUAGE);
    } else if (body!.type === INVOKE_TYPES.card) {
      expect((body!.value as { type?: unknown }).type).toBe('AdaptiveCard');
      checkVisible(JSON.stringify(body!.value), locale, sent, `invoke ${String(name)} card`);
    } else {
      expect(Array.isArray((body!.value as { results?: unknown }).results)).toBe(true);
    }
    return;
  }
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(body!.type).toBe(INVOKE_TYPES.error);
  const err = body!.value as { code?: unknown; message?: unknown };
  expect(typeof err.code).toBe('string');
  expect(typeof err.message).toBe('string');
  expectLocalizedText(err.message as string, locale, `invoke ${String(name)} error`);
}

interface Delivery {
  res: PostResult;
  calls: ConnectorCall[];
}

/** POSTs a body (an activity, or anything) and checks the properties every delivery must keep. */
async function deliver(
  h: TeamsHarness,
  newLogs: () => string,
  body: unknown,
  opts: { raw?: boolean; token?: string; /** A 400 for a body that is no activity is the right answer. */ broken?: boolean } = {},
): Promise<Delivery> {
  const before = h.connector.calls.length;
  const text = opts.raw ? String(body) : JSON.stringify(body);
  if (!opts.raw) rememberStrings(body);
  const t0 = Date.now();
  const r = await fetch(`${h.app.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    body: text,
  });
  const answer = await r.text();
  reportToSecretGuard('teams:http-answer', answer);
  let parsed: unknown;
  try {
    parsed = answer ? JSON.parse(answer) : undefined;
  } catch {
    parsed = answer;
  }
  const res: PostResult = { status: r.status, body: parsed };
  if (process.env.FUZZ_DEBUG) console.log('>>', Date.now() - t0, res.status, text.length, text.slice(0, 300));
  const logged = failures(newLogs());
  expect(res.status, `HTTP status for ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(logged).toEqual([]);
  expect(unhandled).toEqual([]);
  const a = (!opts.raw && body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const locale = readerLocale(a);
  const calls = h.connector.calls.slice(before);
  for (const c of calls) {
    if (!c.body) continue;
    const what = `${c.kind} to ${c.conversationId}`;
    if (typeof c.body.text === 'string') checkVisible(c.body.text, c.kind === 'reply' || c.kind === 'send' ? locale : undefined, text, what);
    checkVisible(JSON.stringify(c.body.attachments ?? []), locale, text, `${what} attachments`);
  }
  const notAnActivity = res.status === 400 && !!res.body && typeof res.body === 'object' && 'error' in res.body;
  if (!opts.broken) expect(notAnActivity, `refused as no activity: ${text.slice(0, 300)}`).toBe(false);
  if (a.type === 'invoke' && !notAnActivity) checkInvokeAnswer(res, locale, text, a.name);
  return { res, calls };
}

// ---- arbitraries --------------------------------------------------------------------------------------

const COMMAND_WORDS = [
  'status',
  'help',
  'mine',
  'assign',
  'unassign',
  'done',
  'reopen',
  'skip',
  'due',
  'lang',
  'export',
  'check',
  'setup',
  'link',
  'unlink',
  'klaar',
  'taal',
  'digest',
];
const HTML = [
  '<p>',
  '</p>',
  '<div>',
  '</div>',
  '<br>',
  '&nbsp;',
  '&amp;',
  '&lt;',
  '&gt;',
  '&quot;',
  '&#39;',
  '<b>',
  '</b>',
  '<at>bwprep</at>',
  '<at>Anna Fake</at>',
  '<at>Nobody</at>',
  '<at>',
  '</at>',
  '<span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="0">bwprep</span>',
];
const ARGS = [
  '1a',
  '2a',
  '2b',
  '4c',
  '4e',
  '99z',
  '6',
  'none',
  '2026-12-31',
  '2026-02-30',
  'nl',
  'en',
  'xx',
  'md',
  'csv',
  'json',
  '@Anna',
  '🚀',
  'مرحبا',
  '\u202egnp.exe',
  'ｓｔａｔｕｓ',
];
const token = fc.oneof(fc.constantFrom(...COMMAND_WORDS, ...HTML, ...ARGS), fc.string({ unit: 'grapheme', maxLength: 12 }));
const sep = fc.constantFrom(' ', ' ', '&nbsp;', '\u00a0', '\n', '<br>', '');
const messageText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.array(fc.tuple(token, sep), { minLength: 1, maxLength: 6 }), fc.constantFrom('', '<p>', '<div>'))
      .map(([parts, wrap]) => `${wrap}${parts.map(([w, s]) => w + s).join('')}`),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('skip 4e ', 'done 2a ', 'unknownword'), fc.string({ minLength: 2000, maxLength: 2000 }), fc.nat(5))
      .map(([p, s, n]) => p + s.repeat(n + 1)),
  },
);
const person = fc.constantFrom(BOB, ANNA, GUEST);
const localeValue = fc.oneof(fc.constantFrom('nl-NL', 'nl-BE', 'en-US', 'en-GB', 'nl', 'NL-nl', 'de-DE', '', 'xx'), fc.string({ maxLength: 8 }));
const timezone = fc.oneof(fc.constantFrom('Europe/Amsterdam', 'America/New_York', 'UTC', 'Mars/Base', ''), fc.string({ maxLength: 12 }));
const json = fc.jsonValue({ maxDepth: 3 });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/** A field left as the builder made it (undefined), dropped, or replaced by `value`. */
type Override = { op: 'keep' } | { op: 'drop' } | { op: 'set'; value: unknown };
const override = (value: fc.Arbitrary<unknown>): fc.Arbitrary<Override> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant({ op: 'keep' } as const) },
    { weight: 1, arbitrary: fc.constant({ op: 'drop' } as const) },
    { weight: 2, arbitrary: value.map((v) => ({ op: 'set', value: v }) as const) },
  );

function apply(a: Activity, fields: Record<string, Override>): Activity {
  const out = structuredClone(a) as Record<string, unknown>;
  for (const [k, o] of Object.entries(fields)) {
    if (o.op === 'drop') delete out[k];
    else if (o.op === 'set') out[k] = o.value;
  }
  return out as Activity;
}

const fromField = override(
  fc.oneof(
    person.map((p) => ({ id: p.id, name: p.name, aadObjectId: p.aadObjectId })),
    fc.record(
      { id: fc.string({ maxLength: 20 }), name: maybe(fc.string({ maxLength: 20 })), aadObjectId: maybe(fc.oneof(fc.uuid(), fc.string({ maxLength: 10 }))) },
      { requiredKeys: ['id'] },
    ),
    fc.constant({ id: FAKE_BOT.id, name: 'bwprep' }),
  ),
);
const conversationField = override(
  fc.record(
    {
      id: fc.oneof(
        fc.constantFrom(`${FAKE_CHANNEL};messageid=1700000000000`, FAKE_CHANNEL, FAKE_GROUP_CHAT, 'a:fake-personal-fuzz', '19:other@thread.tacv2'),
        fc.string({ minLength: 1, maxLength: 30 }),
      ),
      conversationType: maybe(fc.oneof(fc.constantFrom('channel', 'groupChat', 'personal'), fc.string({ maxLength: 8 }))),
      tenantId: maybe(fc.oneof(fc.constant(FAKE_TENANT), fc.string({ maxLength: 12 }))),
      isGroup: maybe(fc.boolean()),
      name: maybe(fc.string({ maxLength: 20 })),
    },
    { requiredKeys: ['id'] },
  ),
);
const channelDataField = override(
  fc.oneof(
    fc.record({
      tenant: maybe(fc.record({ id: fc.oneof(fc.constant(FAKE_TENANT), fc.string({ maxLength: 12 })) })),
      team: maybe(fc.record({ id: fc.string({ maxLength: 12 }), name: maybe(fc.string({ maxLength: 12 })) })),
      channel: maybe(fc.record({ id: fc.oneof(fc.constant(FAKE_CHANNEL), fc.string({ maxLength: 12 })), name: maybe(fc.string({ maxLength: 12 })) })),
      eventType: maybe(fc.constantFrom('channelDeleted', 'teamRenamed', 'channelCreated', 'x')),
    }),
    fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 3 }),
  ),
);
const entity = fc.oneof(
  fc.record({
    type: fc.constant('mention'),
    text: fc.oneof(fc.constantFrom('<at>bwprep</at>', '<at>Anna Fake</at>', '<at></at>'), fc.string({ maxLength: 12 })),
    mentioned: fc.record(
      {
        id: fc.oneof(fc.constantFrom(FAKE_BOT.id, ANNA.id, '29:fake-nobody'), fc.string({ maxLength: 10 })),
        name: maybe(fc.string({ maxLength: 10 })),
        aadObjectId: maybe(fc.uuid()),
      },
      { requiredKeys: ['id'] },
    ),
  }),
  fc.record({ type: fc.constant('clientInfo'), locale: maybe(localeValue), timezone: maybe(timezone), country: maybe(fc.string({ maxLength: 3 })) }),
  fc.tuple(fc.string({ maxLength: 8 }), fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 3 })).map(([type, rest]) => ({ ...rest, type })),
);
const entitiesField = override(fc.array(entity, { maxLength: 4 }));

const messageActivity = (serviceUrl: string) =>
  fc
    .record({
      text: messageText,
      mention: fc.boolean(),
      mentions: fc.subarray([ANNA, GUEST, { id: '29:fake-nobody', name: 'Nobody Fake', aadObjectId: '00000000-0000-4000-8000-0000000000aa' }], {
        maxLength: 2,
      }),
      scope: fc.constantFrom('channel', 'groupChat', 'personal' as const),
      from: person,
      locale: maybe(localeValue),
      timezone: maybe(timezone),
      fields: fc.record({
        from: fromField,
        conversation: conversationField,
        channelData: channelDataField,
        entities: entitiesField,
        locale: override(localeValue),
        localTimezone: override(timezone),
        value: fc.oneof(fc.constant({ op: 'keep' } as Override), override(json)),
      }),
    })
    .map(({ fields, ...m }) =>
      apply(
        teamsMessage({
          serviceUrl,
          ...m,
          ...(m.locale === undefined ? {} : { locale: m.locale }),
          ...(m.timezone === undefined ? {} : { timezone: m.timezone }),
        } as Parameters<typeof teamsMessage>[0]),
        fields,
      ),
    );

const stepId = fc.oneof(fc.constantFrom('1a', '2a', '2b', '4c', '4e', '99z', ''), fc.string({ maxLength: 6 }));
const ref = fc.oneof(
  stepId.map((s) => encodeStepRef(ROLLOUT, s)),
  stepId.map((s) => encodeStepRef('teams:other-tenant:19:gone@thread.tacv2', s)),
  fc.constantFrom('@', '1a@', '@x', 'x@y@z', ''),
  fc.string({ minLength: 5000, maxLength: 5000 }).map((s) => `1a@${s}`),
  json,
);
const cardData = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        ref,
        stepId,
        fc.oneof(fc.uuid(), fc.constantFrom(`teams:${ANNA.aadObjectId}`, ANNA.aadObjectId, 'not-a-user', ''), json),
        fc.dictionary(fc.string({ maxLength: 10 }), json, { maxKeys: 3 }),
      )
      .map(([r, s, owner, extra]) => ({ ...extra, ref: r, [`owner:${s}`]: owner })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      rolloutId: fc.oneof(fc.constant(ROLLOUT), fc.string({ maxLength: 20 }), json),
      locale: maybe(fc.oneof(fc.constantFrom('nl', 'en'), json)),
      hosting: maybe(json),
      digestTime: maybe(fc.oneof(fc.constant('08:30'), json)),
      timezone: maybe(json),
      admins: maybe(fc.oneof(fc.uuid(), json)),
      weekdays: maybe(json),
      clientSecret: maybe(fc.constant('fake-client-secret-not-real')),
    }),
  },
  { weight: 1, arbitrary: json },
);
const verb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...Object.values(ACTIONS)) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('unknown_verb', '', 'MARK_DONE'), fc.string({ maxLength: 10 }), json) },
);

const cardActionActivity = (serviceUrl: string) =>
  fc
    .record({
      verb,
      data: cardData,
      from: person,
      locale: maybe(localeValue),
      scope: fc.constantFrom('channel', 'groupChat', 'personal' as const),
      shape: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'no_action', 'submit', 'value_json', 'no_value', 'action_json'),
      junk: json,
    })
    .map(({ verb: v, data, from, locale, scope, shape, junk }) => {
      const a = teamsCardAction({ serviceUrl, verb: 'x', replyToId: 'fake-card-fuzz', from, scope, ...(locale === undefined ? {} : { locale }) }) as Record<
        string,
        unknown
      >;
      const action: Record<string, unknown> = { type: 'Action.Execute', verb: v, data };
      if (shape === 'ok') a.value = { action, trigger: 'manual' };
      else if (shape === 'no_action') a.value = { trigger: 'manual' };
      else if (shape === 'submit') a.value = { action: { ...action, type: 'Action.Submit' } };
      else if (shape === 'value_json') a.value = junk;
      else if (shape === 'no_value') delete a.value;
      else a.value = { action: junk };
      return a as Activity;
    });

const otherInvoke = (serviceUrl: string) =>
  fc
    .record({
      kind: fc.constantFrom('search', 'fileConsent', 'unknown'),
      name: fc.oneof(
        fc.constantFrom(
          'task/fetch',
          'task/submit',
          'composeExtension/query',
          'composeExtension/submitAction',
          'signin/verifyState',
          'config/fetch',
          'tab/fetch',
          'actionableMessage/executeAction',
          'adaptiveCard/unknown',
          'application/unknown',
          '',
        ),
        fc.string({ maxLength: 20 }),
      ),
      queryText: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(''), json),
      dataset: fc.oneof(fc.constantFrom('graph.microsoft.com/users?scope=currentContext', 'bwprep.people', ''), fc.string({ maxLength: 20 }), json),
      consentAction: fc.oneof(fc.constantFrom('accept', 'decline'), fc.string({ maxLength: 8 }), json),
      context: fc.oneof(fc.record({ exportId: fc.oneof(fc.uuid(), json) }), json),
      uploadInfo: maybe(
        fc.oneof(
          fc.record({
            name: fc.string({ maxLength: 10 }),
            uploadUrl: fc.oneof(fc.constantFrom('ftp://example.invalid/x', 'not a url', ''), json),
            contentUrl: fc.string({ maxLength: 10 }),
            uniqueId: fc.string({ maxLength: 10 }),
            fileType: fc.string({ maxLength: 4 }),
          }),
          json,
        ),
      ),
      value: fc.oneof(json, fc.constant(undefined)),
      whole: fc.boolean(),
      from: person,
      locale: maybe(localeValue),
      scope: fc.constantFrom('channel', 'personal' as const),
    })
    .map((x) => {
      const b = { serviceUrl, from: x.from, scope: x.scope, ...(x.locale === undefined ? {} : { locale: x.locale }) };
      if (x.kind === 'fileConsent') {
        const a = teamsFileConsent({ ...b, action: 'accept', context: x.context, replyToId: 'fake-offer-fuzz' }) as Record<string, unknown>;
        a.value = x.whole
          ? { type: 'fileUpload', action: x.consentAction, context: x.context, ...(x.uploadInfo === undefined ? {} : { uploadInfo: x.uploadInfo }) }
          : x.value;
        return a as Activity;
      }
      const a = teamsCardAction({ ...b, verb: 'x', replyToId: 'fake-card-fuzz' }) as Record<string, unknown>;
      if (x.kind === 'search') {
        a.name = 'application/search';
        a.value = x.whole ? { kind: 'search', queryText: x.queryText, dataset: x.dataset, queryOptions: { skip: 0, top: 15 } } : x.value;
      } else {
        a.name = x.name;
        a.value = x.value;
      }
      return a as Activity;
    });

const updateActivity = (serviceUrl: string) =>
  fc
    .record({
      kind: fc.constantFrom('conversationUpdate', 'installationUpdate'),
      members: fc.record({
        added: maybe(fc.oneof(fc.array(fc.record({ id: fc.oneof(fc.constant(FAKE_BOT.id), fc.string({ maxLength: 10 })) }), { maxLength: 3 }))),
        removed: maybe(fc.array(fc.record({ id: fc.oneof(fc.constant(FAKE_BOT.id), fc.string({ maxLength: 10 })) }), { maxLength: 2 })),
      }),
      eventType: maybe(fc.oneof(fc.constantFrom('channelDeleted', 'channelRenamed', 'teamDeleted', 'channelRestored'), fc.string({ maxLength: 10 }))),
      action: fc.oneof(fc.constantFrom('add', 'remove', 'add-upgrade', 'remove-upgrade'), fc.string({ maxLength: 8 })),
      scope: fc.constantFrom('channel', 'groupChat', 'personal' as const),
      conversationId: maybe(fc.oneof(fc.constantFrom('19:fuzz-one@thread.tacv2', '19:fuzz-two@thread.v2'), fc.string({ minLength: 1, maxLength: 20 }))),
      locale: maybe(localeValue),
      fields: fc.record({ channelData: channelDataField, action: override(fc.string({ maxLength: 8 })) }),
    })
    .map((x) => {
      const b = {
        serviceUrl,
        scope: x.scope,
        ...(x.conversationId ? { conversationId: x.conversationId } : {}),
        ...(x.locale === undefined ? {} : { locale: x.locale }),
      };
      if (x.kind === 'installationUpdate') return apply(teamsInstallationUpdate({ ...b, action: x.action as 'add' }), { action: x.fields.action });
      const a = teamsConversationUpdate({
        ...b,
        ...(x.members.added ? { added: x.members.added } : {}),
        ...(x.members.removed ? { removed: x.members.removed } : {}),
        ...(x.eventType ? { eventType: x.eventType } : {}),
      });
      return apply(a, { channelData: x.fields.channelData });
    });

/** A well-formed activity of any kind with one known field replaced by a value of a wrong JSON type, or dropped. */
const KNOWN_FIELDS = [
  'type',
  'id',
  'name',
  'text',
  'textFormat',
  'locale',
  'localTimezone',
  'serviceUrl',
  'channelId',
  'from',
  'recipient',
  'conversation',
  'entities',
  'channelData',
  'value',
  'replyToId',
  'membersAdded',
  'membersRemoved',
  'action',
  'attachments',
  'timestamp',
];
const brokenActivity = (serviceUrl: string) =>
  fc
    .tuple(
      fc.oneof(messageActivity(serviceUrl), cardActionActivity(serviceUrl), updateActivity(serviceUrl)),
      fc.constantFrom(...KNOWN_FIELDS),
      fc.boolean(),
      json,
      fc.constantFrom('conversation', 'from', 'recipient'),
      json,
    )
    .map(([a, field, drop, junk, inner, innerJunk]) => {
      const out = structuredClone(a) as Record<string, unknown>;
      if (drop) delete out[field];
      else out[field] = junk;
      // And one level down: the id of the conversation, the sender or the recipient.
      if (out[inner] && typeof out[inner] === 'object') (out[inner] as Record<string, unknown>).id = innerJunk;
      return out;
    });
const rawBody = fc.oneof(
  fc.string({ maxLength: 40 }),
  json.map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '',
    '{',
    '{"type":',
    'null',
    '[]',
    '"message"',
    '{"type":"message"}',
    '{"type":"invoke"}',
    '{"type":"message","conversation":null}',
    '\u0000',
  ),
);

// ---- the runs -----------------------------------------------------------------------------------------

describe('fuzz over HTTP: Teams activities through the real app', () => {
  let h: TeamsHarness;
  let newLogs: () => string;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    h = await startTeamsHarness();
    newLogs = logReader(h);
    // A rollout in the channel (Bob started it, so he is its admin) with its card posted.
    const res = await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'status', mention: true, locale: 'en-GB' }));
    expect(res.status).toBe(200);
    await h.connector.waitFor((c) => c.kind === 'send' && Array.isArray(c.body?.attachments));
    expect(failures(newLogs())).toEqual([]);
  });
  afterAll(async () => {
    await h?.close();
    process.off('unhandledRejection', onUnhandled);
  });

  it(
    'messages with any text, sender, conversation, channelData, entities, locale and value',
    async () => {
      await fc.assert(
        fc.asyncProperty(messageActivity(h.connector.serviceUrl), async (a) => {
          // No conversation: nothing to answer in or to remember, so the activity is refused with 400.
          await deliver(h, newLogs, a, { broken: a.conversation === undefined });
        }),
        RUNS(40),
      );
    },
    FUZZ_TIMEOUT(60_000),
  );

  it(
    'adaptiveCard/action invokes with any verb and data',
    async () => {
      await fc.assert(
        fc.asyncProperty(cardActionActivity(h.connector.serviceUrl), async (a) => {
          await deliver(h, newLogs, a);
        }),
        RUNS(50),
      );
    },
    FUZZ_TIMEOUT(60_000),
  );

  it(
    'application/search, fileConsent/invoke and invokes bwprep does not serve',
    async () => {
      await fc.assert(
        fc.asyncProperty(otherInvoke(h.connector.serviceUrl), async (a) => {
          await deliver(h, newLogs, a);
        }),
        RUNS(40),
      );
    },
    FUZZ_TIMEOUT(60_000),
  );

  it(
    'conversationUpdate and installationUpdate with any members and action',
    async () => {
      await fc.assert(
        fc.asyncProperty(updateActivity(h.connector.serviceUrl), async (a) => {
          await deliver(h, newLogs, a);
        }),
        RUNS(30),
      );
    },
    FUZZ_TIMEOUT(60_000),
  );

  it(
    'structurally broken activities and bodies that are no activity: a 4xx or a handled turn, never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(brokenActivity(h.connector.serviceUrl), async (a) => {
          await deliver(h, newLogs, a, { broken: true });
        }),
        RUNS(40),
      );
      await fc.assert(
        fc.asyncProperty(rawBody, async (body) => {
          const { res } = await deliver(h, newLogs, body, { raw: true, broken: true });
          if (res.status >= 400) expect(res.status).toBeLessThan(500);
        }),
        RUNS(20),
      );
    },
    FUZZ_TIMEOUT(60_000),
  );

  it('left nothing failing behind (background check runs, card refreshes)', async () => {
    await h.app.stop();
    expect(failures(newLogs())).toEqual([]);
    expect(unhandled).toEqual([]);
  });
});

describe('fuzz over HTTP with Bot Framework authentication (MICROSOFT_APP_ID, a valid channel token)', () => {
  let h: TeamsHarness;
  let newLogs: () => string;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    h = await startTeamsHarness({ env: { MICROSOFT_APP_ID: FAKE_MS_APP_ID, MICROSOFT_APP_PASSWORD: FAKE_MS_APP_PASSWORD } });
    newLogs = logReader(h);
  });
  afterAll(async () => {
    await h?.close();
    process.off('unhandledRejection', onUnhandled);
  });

  // Answers that need no outbound call (which would need a real AAD token): invokes answer in the HTTP body,
  // no rollout exists here so every card press is refused in that body, and conversation updates only store.
  it(
    'authenticated invokes and conversation updates reach the handlers and keep every property',
    async () => {
      const token = () => h.connector.channelToken({ audience: FAKE_MS_APP_ID, serviceUrl: h.connector.serviceUrl });
      const conversationOnly = updateActivity(h.connector.serviceUrl).filter((a) => a.type === 'conversationUpdate');
      let reached = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            cardActionActivity(h.connector.serviceUrl),
            otherInvoke(h.connector.serviceUrl).filter((a) => a.name !== 'fileConsent/invoke'),
            conversationOnly,
          ),
          async (a) => {
            const { res } = await deliver(h, newLogs, a, { token: token() });
            expect(res.status).not.toBe(401);
            if (typeof a.conversation?.id === 'string' && (await h.teams.conversations.get(a.conversation.id))) reached++;
          },
        ),
        RUNS(25),
      );
      // The handlers ran: they remembered the conversations the activities came from.
      expect(reached).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT(60_000),
  );
});
