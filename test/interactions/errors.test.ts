import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conversationKey } from '../../src/core/checklist/model';
import { BwprepError } from '../../src/core/errors';
import { PlatformError, describeError } from '../../src/interactions/errors';
import { plainText } from '../../src/views/rich';
import { ADA, CONVERSATION, type LayerHarness, layer, resolveUser, storeDown } from './harness';

/**
 * The one error boundary: what a person reads for each kind of failure (in their language), what the
 * operator finds in the log and in the `errors` counter. The failures are raised the way the store and the
 * platforms raise them (a socket error code in the cause chain, a classified PlatformError).
 */

interface LogRecord {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg?: string;
}

function recorder() {
  const records: LogRecord[] = [];
  const codes: string[] = [];
  const at = (level: LogRecord['level']) => (obj: object, msg?: string) =>
    void records.push({ level, obj: obj as Record<string, unknown>, ...(msg !== undefined ? { msg } : {}) });
  return {
    records,
    codes,
    logger: { info: at('info'), warn: at('warn'), error: at('error') },
    metrics: { errors: { inc: (labels: { code: string }) => void codes.push(labels.code) } },
  };
}

const text = (lines: ReturnType<typeof describeError>) => lines.map((l) => plainText(l));

describe('describeError', () => {
  it('a refusal shows its own message and is logged at info with its code and message key', () => {
    const r = recorder();
    const lines = describeError(new BwprepError('forbidden', { key: 'error.forbidden.skip', vars: { step: '2a' } }), 'en', r.logger, r.metrics);
    expect(lines).toHaveLength(1);
    expect(r.codes).toEqual(['forbidden']);
    expect(r.records).toEqual([{ level: 'info', obj: { code: 'forbidden', key: 'error.forbidden.skip' }, msg: 'request refused' }]);
  });

  it('an input error past the parser shows how the command is written; other refusals do not', () => {
    const r = recorder();
    const usage = { key: 'usage.done' };
    const unknown = text(describeError(new BwprepError('unknown_step', { key: 'error.unknown_step', vars: { step: '9z' } }), 'en', r.logger, r.metrics, usage));
    expect(unknown).toHaveLength(2);
    expect(unknown[1]).toMatch(/^Usage: /);
    expect(unknown[1]).toContain('done');
    const forbidden = text(
      describeError(new BwprepError('forbidden', { key: 'error.forbidden.skip', vars: { step: '2a' } }), 'en', r.logger, r.metrics, usage),
    );
    expect(forbidden).toHaveLength(1);
    // The error's own usage wins over the command's.
    const own = text(
      describeError(
        new BwprepError('bad_date', { key: 'error.bad_date', vars: { value: 'x' } }, { usage: { key: 'usage.due' } }),
        'nl',
        r.logger,
        r.metrics,
        usage,
      ),
    );
    expect(own[1]).toMatch(/^Gebruik: /);
    expect(own[1]).toContain('due');
    expect(own[1]).not.toContain('done');
  });

  it('the store down: "temporarily unavailable, nothing was changed" in the reader language, a warn log with the error, counted', () => {
    const r = recorder();
    const err = storeDown();
    expect(text(describeError(err, 'nl', r.logger, r.metrics))).toEqual([
      'De opslag van de checklist is tijdelijk niet beschikbaar. Er is niets gewijzigd; probeer het over een minuut opnieuw.',
    ]);
    expect(text(describeError(err, 'en', r.logger))).toEqual([
      'The checklist store is temporarily unavailable. Nothing was changed; please try again in a minute.',
    ]);
    expect(r.codes).toEqual(['store_unavailable']);
    expect(r.records).toEqual([
      { level: 'warn', obj: { err }, msg: 'store unavailable' },
      { level: 'warn', obj: { err }, msg: 'store unavailable' },
    ]);
  });

  it('a platform refusal shows what to do, is logged at warn with platform, code and kind, counted per platform and code', () => {
    const r = recorder();
    const err = new PlatformError('slack', 'not_in_channel', 'lasting', { key: 'error.slack.not_in_channel' });
    expect(err.message).toBe('slack: not_in_channel');
    expect(err.name).toBe('PlatformError');
    expect(text(describeError(err, 'en', r.logger, r.metrics))).toEqual(["I can't post in this channel yet. Invite me with /invite @bwprep, then try again."]);
    expect(r.codes).toEqual(['slack:not_in_channel']);
    expect(r.records).toEqual([{ level: 'warn', obj: { platform: 'slack', code: 'not_in_channel', kind: 'lasting' }, msg: 'platform refused the request' }]);
  });

  it('anything else: an error log with a reference, the same reference in what the reader sees', () => {
    const r = recorder();
    const err = new TypeError("Cannot read properties of undefined (reading 'steps')");
    const [line] = text(describeError(err, 'en', r.logger, r.metrics));
    const ref = /Reference: ([0-9a-f]{8})\.$/.exec(line!)?.[1];
    expect(line).toMatch(/^Something went wrong on our side\. Nothing was changed\./);
    expect(ref).toBeDefined();
    expect(r.codes).toEqual(['internal']);
    expect(r.records).toEqual([{ level: 'error', obj: { err, ref }, msg: 'unexpected error' }]);
    // A new reference each time: each failure can be found in the log on its own.
    const [again] = text(describeError(err, 'en', r.logger));
    expect(again).not.toContain(ref!);
  });
});

describe('failures through the layer', () => {
  const ROLLOUT = conversationKey(CONVERSATION);
  let h: LayerHarness;
  beforeEach(async () => {
    h = await layer();
  });
  afterEach(async () => {
    await h.close();
  });

  it('the store going away mid-command: the person hears nothing was changed, and nothing was', async () => {
    const ada = h.person(ADA, { locale: 'nl' });
    await h.interactions.command(CONVERSATION, ada, 'assign 2a @ada', resolveUser);
    const before = await h.service.get(ROLLOUT);
    const update = h.store.rollouts.update.bind(h.store.rollouts);
    h.store.rollouts.update = async () => {
      throw storeDown();
    };
    await h.interactions.command(CONVERSATION, ada, 'done 2a', resolveUser);
    expect(ada.texts().at(-1)).toBe('De opslag van de checklist is tijdelijk niet beschikbaar. Er is niets gewijzigd; probeer het over een minuut opnieuw.');
    h.store.rollouts.update = update;
    const after = await h.service.get(ROLLOUT);
    expect(after?.version).toBe(before?.version);
    expect(after?.steps['2a']?.state).toBe(before?.steps['2a']?.state);
    // Service resumes as soon as the store is back.
    await h.interactions.command(CONVERSATION, ada, 'done 2a', resolveUser);
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done');
  });

  it('the platform refusing to post the card: the person reads the platform hint, the rollout keeps no card', async () => {
    const ada = h.person(ADA);
    h.platform.cards.post = async () => {
      throw new PlatformError('teams', 'conversation_inactive', 'lasting', { key: 'error.teams.conversation_inactive' });
    };
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    expect(ada.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'warn' });
    expect(ada.texts().at(-1)).toBe(
      'bwprep can no longer post in this Teams conversation (the app was removed, or the conversation is gone). Add the app again, then type status.',
    );
    expect((await h.service.get(ROLLOUT))?.card).toBeUndefined();
  });
});
