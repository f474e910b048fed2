import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Activity, BOB, FAKE_CHANNEL, teamsCardAction, teamsConversationUpdate, teamsFileConsent, teamsMessage } from './activities';
import { startTeamsHarness, type TeamsHarness } from './harness';

/**
 * Activities Teams never sends but /api/messages can receive: the shrunk counterexamples of
 * test/fuzz/teams-activities.fuzz.test.ts, each once a TypeError inside a turn, a 501, or an English
 * botbuilder message. Now: a broken activity is refused with 400 before any handler; an invoke bwprep does
 * not serve, or one it cannot read, is answered in the sender's language and never with a 5xx.
 */
let h: TeamsHarness;

beforeAll(async () => {
  h = await startTeamsHarness();
});
afterAll(async () => {
  await h?.close();
});

const errorLines = () =>
  h
    .logs()
    .split('\n')
    .filter((l) => /"level":"(?:error|fatal)"/.test(l));
const NL = 'nl-NL';
const DUTCH_BAD_PAYLOAD = 'Die knop gaf niet mee bij welke stap hij hoort.';
const DUTCH_UNSUPPORTED = 'Dit verzoek uit Teams kan bwprep niet afhandelen. Er is niets veranderd.';

/** A copy of `a` with `change` applied to it. */
function broken(a: Activity, change: (x: Record<string, unknown>) => void): Activity {
  const x = structuredClone(a) as Record<string, unknown>;
  change(x);
  return x as Activity;
}

describe('structurally broken activities are refused with 400 before any handler', () => {
  const conv = '19:fake-malformed@thread.tacv2';
  const message = () => teamsMessage({ serviceUrl: h.connector.serviceUrl, conversationId: conv, text: 'help', mention: true });
  const cases: [string, () => Activity][] = [
    // Found by fuzzing: botbuilder's getMentions read `type.toLowerCase()` of every entity.
    ['an entity without a type', () => broken(message(), (x) => (x.entities = [{}]))],
    ['a mention entity without `mentioned`', () => broken(message(), (x) => (x.entities = [{ type: 'mention', text: '<at>bwprep</at>' }]))],
    ['a clientInfo locale that is not a string', () => broken(message(), (x) => (x.entities = [{ type: 'clientInfo', locale: 7 }]))],
    // Found by fuzzing: the conversation id went through `split`.
    ['a conversation id that is not a string', () => broken(message(), (x) => ((x.conversation as Record<string, unknown>).id = {}))],
    ['no recipient', () => broken(message(), (x) => delete x.recipient)],
    // Found by fuzzing: `membersAdded.some` on an object.
    [
      'membersAdded that is not a list',
      () => broken(teamsConversationUpdate({ serviceUrl: h.connector.serviceUrl, conversationId: conv }), (x) => (x.membersAdded = {})),
    ],
  ];

  it.each(cases)('%s', async (_what, build) => {
    const res = await h.post(build());
    expect(res).toEqual({ status: 400, body: { error: 'not_an_activity' } });
    // No handler ran: nothing remembered, nothing sent, nothing failed.
    expect(await h.teams.conversations.get(conv)).toBeUndefined();
    expect(h.connector.calls.filter((c) => c.conversationId === conv)).toEqual([]);
    expect(errorLines()).toEqual([]);
  });

  it('a mention without any text: handled as an empty command (the card), not a TypeError (found by fuzzing)', async () => {
    const res = await h.post(broken(message(), (x) => delete x.text));
    expect(res.status).toBe(200);
    await h.connector.waitFor((c) => c.kind === 'send' && c.conversationId === conv && c.body?.attachments !== undefined);
    expect(errorLines()).toEqual([]);
  });

  it('the same message, well formed, is answered', async () => {
    expect((await h.post(message())).status).toBe(200);
    await h.connector.waitFor((c) => c.kind === 'reply' && c.conversationId === conv);
  });
});

describe('invokes bwprep cannot read or does not serve: answered in the sender’s language, never a 5xx', () => {
  const press = (value: unknown) =>
    broken(teamsCardAction({ serviceUrl: h.connector.serviceUrl, verb: 'mark_done', replyToId: 'fake-card-1', locale: NL }), (x) =>
      value === undefined ? delete x.value : (x.value = value),
    );

  it('a card press without an Action.Execute is refused like a press without a step (was a TypeError and 501, or an English 400)', async () => {
    for (const value of [{ trigger: 'manual' }, undefined, { action: { type: 'Action.Submit', verb: 'mark_done', data: {} } }, { action: 'mark_done' }]) {
      const res = await h.post(press(value));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message' });
      expect(String((res.body as { value: unknown }).value)).toContain(DUTCH_BAD_PAYLOAD);
    }
    expect(errorLines()).toEqual([]);
  });

  it('an invoke name bwprep does not serve gets 400 with a localized error (was 501)', async () => {
    for (const name of ['task/fetch', 'composeExtension/query', 'signin/verifyState', 'actionableMessage/executeAction', undefined]) {
      const a = broken(press({ commandId: 'x' }), (x) => (name === undefined ? delete x.name : (x.name = name)));
      const res = await h.post(a);
      expect(res).toEqual({
        status: 400,
        body: { statusCode: 400, type: 'application/vnd.microsoft.error', value: { code: 'BadRequest', message: DUTCH_UNSUPPORTED } },
      });
    }
    expect(errorLines()).toEqual([]);
  });

  it('a file consent answer without a value or with an unknown action gets 400 with a localized error (was a TypeError and 501, or a bare 400)', async () => {
    const consent = teamsFileConsent({
      serviceUrl: h.connector.serviceUrl,
      scope: 'personal',
      action: 'accept',
      context: { exportId: 'x' },
      replyToId: 'fake-offer-1',
      locale: NL,
    });
    for (const value of [undefined, 'accept', { type: 'fileUpload', action: 'maybe', context: {} }]) {
      const res = await h.post(broken(consent, (x) => (value === undefined ? delete x.value : (x.value = value))));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, type: 'application/vnd.microsoft.error', value: { message: DUTCH_UNSUPPORTED } });
    }
    expect(errorLines()).toEqual([]);
  });

  it('a Data.Query search finds nothing (was 501, or an English 400 without queryText)', async () => {
    for (const value of [{ kind: 'search', queryText: 'ann', dataset: 'bwprep.people' }, { dataset: 'x' }]) {
      const res = await h.post(broken(press(value), (x) => (x.name = 'application/search')));
      expect(res).toEqual({ status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.search.searchResponse', value: { results: [] } } });
    }
    const junk = await h.post(broken(press('ann'), (x) => (x.name = 'application/search')));
    expect(junk.status).toBe(400);
    expect(errorLines()).toEqual([]);
  });
});

describe('an invoke that fails inside the turn', () => {
  it('answers the presser with the reference in the log instead of a bare 501', async () => {
    const own = await startTeamsHarness();
    try {
      // The store goes away under the bot: remembering the conversation fails inside the turn.
      await own.app.store.close();
      const res = await own.post(
        teamsCardAction({
          serviceUrl: own.connector.serviceUrl,
          from: BOB,
          conversationId: FAKE_CHANNEL,
          verb: 'mark_done',
          data: { ref: '2a@x' },
          replyToId: 'fake-card-1',
          locale: 'en-GB',
        }),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message' });
      const text = String((res.body as { value: unknown }).value);
      expect(text).toContain('Something went wrong on our side');
      const ref = /Reference: ([0-9a-f]{8})/.exec(text)?.[1];
      expect(ref).toBeDefined();
      expect(own.logs()).toContain(`"ref":"${ref}"`);
    } finally {
      await own.close();
    }
  });
});
