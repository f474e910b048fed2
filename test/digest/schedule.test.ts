import { Settings } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isBwprepError } from '../../src/core/errors';
import { dueSlot, localParts, missedSlot, nextSlot, slotFor, slotInstant, type ScheduleSettings } from '../../src/core/digest/schedule';
import { FakeClock } from './fixtures';

const AMS: ScheduleSettings = { timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] };
const EVERY_DAY: ScheduleSettings = { ...AMS, weekdays: [1, 2, 3, 4, 5, 6, 7] };
const d = (iso: string) => new Date(iso);

/** Runs a scheduler-like loop minute by minute and returns what it would post (key, UTC instant, late). */
function simulate(settings: ScheduleSettings, fromIso: string, toIso: string, stepMs = 60_000, down?: [string, string]) {
  const clock = new FakeClock(fromIso);
  // Whatever was due before the window counts as posted.
  let lastSlot: string | undefined = slotFor(d(fromIso), settings)?.key;
  const posts: { key: string; postedAt: string; late: boolean }[] = [];
  while (clock.now() < d(toIso)) {
    const now = clock.now();
    const isDown = down && now >= d(down[0]) && now < d(down[1]);
    if (!isDown) {
      const due = dueSlot(now, settings, lastSlot);
      if (due) {
        posts.push({ key: due.key, postedAt: now.toISOString(), late: due.late });
        lastSlot = due.key;
      }
    }
    clock.advance(stepMs);
  }
  return posts;
}

describe('digest slots: time zones', () => {
  it('09:00 Europe/Amsterdam in winter is 08:00 UTC', () => {
    const s = slotFor(d('2026-11-25T08:00:00Z'), AMS);
    expect(s).toMatchObject({ key: '2026-11-25T09:00', date: '2026-11-25' });
    expect(s!.at.toISOString()).toBe('2026-11-25T08:00:00.000Z');
    // One minute earlier the most recent slot is yesterday's.
    expect(slotFor(d('2026-11-25T07:59:00Z'), AMS)!.key).toBe('2026-11-24T09:00');
  });

  it('keeps New York local time across the US switch (1 November 2026)', () => {
    const ny: ScheduleSettings = { timezone: 'America/New_York', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] };
    expect(slotFor(d('2026-10-30T20:00:00Z'), ny)!.at.toISOString()).toBe('2026-10-30T13:00:00.000Z'); // EDT
    expect(nextSlot(d('2026-10-30T20:00:00Z'), ny)!.at.toISOString()).toBe('2026-11-02T14:00:00.000Z'); // EST, Monday
  });

  it('uses the local date of the rollout, not the UTC date', () => {
    const tokyo: ScheduleSettings = { timezone: 'Asia/Tokyo', digestTime: '08:00', weekdays: [1, 2, 3, 4, 5] };
    // 23:30 UTC on Tuesday is 08:30 on Wednesday in Tokyo.
    expect(slotFor(d('2026-11-24T23:30:00Z'), tokyo)).toMatchObject({ key: '2026-11-25T08:00' });
  });
});

describe('digest slots: DST in Europe/Amsterdam', () => {
  it('spring forward, last Sunday of March (29 March 2026): 09:00 stays 09:00 local', () => {
    expect(slotFor(d('2026-03-28T12:00:00Z'), EVERY_DAY)!.at.toISOString()).toBe('2026-03-28T08:00:00.000Z'); // CET
    const sunday = nextSlot(d('2026-03-28T12:00:00Z'), EVERY_DAY)!;
    expect(sunday.key).toBe('2026-03-29T09:00');
    expect(sunday.at.toISOString()).toBe('2026-03-29T07:00:00.000Z'); // CEST
    expect(nextSlot(sunday.at, EVERY_DAY)!.at.toISOString()).toBe('2026-03-30T07:00:00.000Z');
  });

  it('fall back, last Sunday of October (25 October 2026): 09:00 stays 09:00 local', () => {
    expect(slotFor(d('2026-10-24T12:00:00Z'), EVERY_DAY)!.at.toISOString()).toBe('2026-10-24T07:00:00.000Z'); // CEST
    const sunday = nextSlot(d('2026-10-24T12:00:00Z'), EVERY_DAY)!;
    expect(sunday.key).toBe('2026-10-25T09:00');
    expect(sunday.at.toISOString()).toBe('2026-10-25T08:00:00.000Z'); // CET
  });

  it('posts exactly once a day at 09:00 local through both switches (minute-by-minute clock)', () => {
    const march = simulate(EVERY_DAY, '2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z');
    expect(march.map((p) => [p.key, p.postedAt, p.late])).toEqual([
      ['2026-03-28T09:00', '2026-03-28T08:00:00.000Z', false],
      ['2026-03-29T09:00', '2026-03-29T07:00:00.000Z', false],
      ['2026-03-30T09:00', '2026-03-30T07:00:00.000Z', false],
      ['2026-03-31T09:00', '2026-03-31T07:00:00.000Z', false],
    ]);
    const october = simulate(EVERY_DAY, '2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z');
    expect(october.map((p) => p.postedAt)).toEqual([
      '2026-10-24T07:00:00.000Z',
      '2026-10-25T08:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
      '2026-10-27T08:00:00.000Z',
    ]);
  });

  it('a local time that does not exist (02:30 on 29 March) moves forward to 03:30 CEST, once', () => {
    const night: ScheduleSettings = { ...EVERY_DAY, digestTime: '02:30' };
    const s = nextSlot(d('2026-03-28T12:00:00Z'), night)!;
    expect(s.key).toBe('2026-03-29T02:30');
    expect(s.at.toISOString()).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    const posts = simulate(night, '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z');
    expect(posts.map((p) => [p.key, p.postedAt])).toEqual([
      ['2026-03-29T02:30', '2026-03-29T01:30:00.000Z'],
      ['2026-03-30T02:30', '2026-03-30T00:30:00.000Z'],
    ]);
  });

  it('a local time that exists twice (02:30 on 25 October) posts once, not at both instants', () => {
    const night: ScheduleSettings = { ...EVERY_DAY, digestTime: '02:30' };
    const posts = simulate(night, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z');
    expect(posts.map((p) => p.key)).toEqual(['2026-10-25T02:30', '2026-10-26T02:30']);
    expect(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']).toContain(posts[0]!.postedAt);
  });
});

describe('digest slots: weekdays', () => {
  it('skips the weekend: Friday is the latest slot on Saturday, Monday is next', () => {
    const saturday = d('2026-11-28T10:00:00Z');
    expect(slotFor(saturday, AMS)!.key).toBe('2026-11-27T09:00');
    expect(dueSlot(saturday, AMS, '2026-11-27T09:00')).toBeUndefined();
    expect(nextSlot(saturday, AMS)).toMatchObject({ key: '2026-11-30T09:00' });
    expect(nextSlot(saturday, AMS)!.at.toISOString()).toBe('2026-11-30T08:00:00.000Z');
  });

  it('honours an odd set of weekdays over two weeks', () => {
    const monWed = { ...AMS, weekdays: [1, 3] };
    const posts = simulate(monWed, '2026-11-22T00:00:00Z', '2026-12-06T00:00:00Z', 5 * 60_000);
    expect(posts.map((p) => p.key)).toEqual(['2026-11-23T09:00', '2026-11-25T09:00', '2026-11-30T09:00', '2026-12-02T09:00']);
  });

  it('no weekdays: no slot at all', () => {
    expect(slotFor(d('2026-11-25T12:00:00Z'), { ...AMS, weekdays: [] })).toBeUndefined();
    expect(nextSlot(d('2026-11-25T12:00:00Z'), { ...AMS, weekdays: [] })).toBeUndefined();
  });
});

describe('digest slots: due, late and catch-up', () => {
  it('on time within the grace period, late after it', () => {
    expect(dueSlot(d('2026-11-25T08:10:00Z'), AMS, '2026-11-24T09:00')).toMatchObject({ key: '2026-11-25T09:00', late: false });
    expect(dueSlot(d('2026-11-25T08:20:00Z'), AMS, '2026-11-24T09:00')).toMatchObject({ key: '2026-11-25T09:00', late: true });
  });

  it('after downtime over two slots posts only the newest missed one, once, marked late', () => {
    // Down from Tuesday 07:00Z to Wednesday 14:00Z: Tuesday's and Wednesday's 09:00 were missed.
    const posts = simulate(AMS, '2026-11-23T12:00:00Z', '2026-11-26T12:00:00Z', 60_000, ['2026-11-24T07:00:00Z', '2026-11-25T14:00:00Z']);
    expect(posts).toEqual([
      { key: '2026-11-25T09:00', postedAt: '2026-11-25T14:00:00.000Z', late: true },
      { key: '2026-11-26T09:00', postedAt: '2026-11-26T08:00:00.000Z', late: false },
    ]);
  });

  it('a slot older than 24 hours is skipped, not back-posted; the next slot posts on time', () => {
    // Friday's slot missed, the bot is back on Sunday.
    const sunday = d('2026-11-29T12:00:00Z');
    expect(dueSlot(sunday, AMS, '2026-11-26T09:00')).toBeUndefined();
    expect(missedSlot(sunday, AMS, '2026-11-26T09:00')).toMatchObject({ key: '2026-11-27T09:00' });
    const posts = simulate(AMS, '2026-11-29T12:00:00Z', '2026-11-30T12:00:00Z');
    expect(posts).toEqual([{ key: '2026-11-30T09:00', postedAt: '2026-11-30T08:00:00.000Z', late: false }]);
  });

  it('a recorded slot is never due again (restart), even after the digest time moved later that day', () => {
    expect(dueSlot(d('2026-11-25T12:00:00Z'), AMS, '2026-11-25T09:00')).toBeUndefined();
    expect(dueSlot(d('2026-11-25T12:00:00Z'), AMS, '2026-11-25T08:00')).toBeUndefined();
  });

  it('an invalid time zone or time is a coded setting error', () => {
    for (const bad of [
      { ...AMS, timezone: 'Mars/Olympus' },
      { ...AMS, digestTime: '9am' },
    ]) {
      let err: unknown;
      try {
        slotFor(d('2026-11-25T12:00:00Z'), bad);
      } catch (e) {
        err = e;
      }
      expect(isBwprepError(err) && err.code).toBe('invalid_setting');
    }
  });
});

describe('digest slots: new rollouts', () => {
  it('a slot before the rollout existed is never due (no late digest for a brand-new rollout)', () => {
    const created = d('2026-11-24T15:00:00Z');
    expect(dueSlot(d('2026-11-25T07:59:00Z'), AMS, undefined, { notBefore: created })).toBeUndefined();
    expect(dueSlot(d('2026-11-25T08:00:00Z'), AMS, undefined, { notBefore: created })).toMatchObject({ key: '2026-11-25T09:00', late: false });
  });
});

/**
 * Edges the first mutation run found unpinned (test/MUTATION.md, "per-file run"): the exact boundaries of
 * "late", "too late" and "not before", `missedSlot` on its own, and which message a bad setting names.
 * 09:00 in Amsterdam on Wednesday 2026-11-25 is 08:00Z.
 */
describe('slot boundaries and setting errors', () => {
  const slotAt = d('2026-11-25T08:00:00Z').getTime();
  const at = (ms: number) => new Date(slotAt + ms);
  const opts = { graceMs: 60_000, maxLateMs: 120_000 };

  it('a slot exactly at the grace bound is on time; one millisecond later it is late', () => {
    expect(dueSlot(at(60_000), AMS, undefined, opts)).toMatchObject({ key: '2026-11-25T09:00', late: false });
    expect(dueSlot(at(60_001), AMS, undefined, opts)).toMatchObject({ key: '2026-11-25T09:00', late: true });
  });

  it('a slot exactly at the max-late bound is still posted; one millisecond later it is missed for good', () => {
    expect(dueSlot(at(120_000), AMS, undefined, opts)).toMatchObject({ late: true });
    expect(missedSlot(at(120_000), AMS, undefined, opts)).toBeUndefined();
    expect(dueSlot(at(120_001), AMS, undefined, opts)).toBeUndefined();
    expect(missedSlot(at(120_001), AMS, undefined, opts)).toMatchObject({ key: '2026-11-25T09:00' });
  });

  it('notBefore equal to the slot time lets it through; a later notBefore holds back both due and missed', () => {
    expect(dueSlot(at(1_000), AMS, undefined, { ...opts, notBefore: at(0) })).toMatchObject({ key: '2026-11-25T09:00' });
    expect(missedSlot(at(600_000), AMS, undefined, { ...opts, notBefore: at(0) })).toMatchObject({ key: '2026-11-25T09:00' });
    expect(missedSlot(at(600_000), AMS, undefined, { ...opts, notBefore: at(1) })).toBeUndefined();
  });

  it('missedSlot says nothing for a fresh slot or one already posted', () => {
    expect(missedSlot(at(1_000), AMS, undefined, opts)).toBeUndefined();
    expect(missedSlot(at(600_000), AMS, '2026-11-25T09:00', opts)).toBeUndefined();
  });

  it('a bad time or time zone is refused with the message that names it and the value given', () => {
    const refusal = (s: ScheduleSettings) => {
      try {
        slotFor(at(0), s);
      } catch (e) {
        expect(isBwprepError(e)).toBe(true);
        return (e as { userMessage: unknown }).userMessage;
      }
      throw new Error('no refusal');
    };
    expect(refusal({ ...AMS, digestTime: '9 o’clock' })).toEqual({ key: 'digest.error.bad_time', vars: { value: '9 o’clock' } });
    expect(refusal({ ...AMS, timezone: 'Mars/Olympus' })).toEqual({ key: 'digest.error.bad_timezone', vars: { value: 'Mars/Olympus' } });
    // A zone once accepted stays accepted (the cache), and a bad one is never cached.
    expect(refusal({ ...AMS, timezone: 'Mars/Olympus' })).toEqual({ key: 'digest.error.bad_timezone', vars: { value: 'Mars/Olympus' } });
  });
});

/**
 * Mutation survivors in schedule.ts (test/MUTATION.md): slots in the rollout's zone whatever the server's
 * own zone (luxon's `Settings.defaultZone`, set here and restored), the search window's last day, and
 * `localParts` / `slotInstant` on their own.
 */
describe('mutation survivors: the server’s own time zone, the search window, local parts', () => {
  let saved: typeof Settings.defaultZone;
  beforeEach(() => {
    saved = Settings.defaultZone;
  });
  afterEach(() => {
    Settings.defaultZone = saved;
  });

  it('the next slot follows the rollout’s date, not the server’s (a server at UTC+14 is a day ahead)', () => {
    Settings.defaultZone = 'Pacific/Kiritimati';
    const evening: ScheduleSettings = { ...AMS, digestTime: '18:00' };
    // 10:30 UTC on Wednesday: 11:30 in Amsterdam, already 00:30 on Thursday at UTC+14.
    expect(nextSlot(d('2026-11-25T10:30:00Z'), evening)).toMatchObject({ key: '2026-11-25T18:00', date: '2026-11-25' });
    expect(nextSlot(d('2026-11-25T10:30:00Z'), evening)!.at.toISOString()).toBe('2026-11-25T17:00:00.000Z');
  });

  it('a slot key is read in the rollout’s zone, not the server’s', () => {
    Settings.defaultZone = 'Pacific/Kiritimati';
    expect(slotInstant('2026-11-25T09:00', 'Europe/Amsterdam')?.toISOString()).toBe('2026-11-25T08:00:00.000Z');
    expect(slotInstant('2026-07-01T09:00', 'Europe/Amsterdam')?.toISOString()).toBe('2026-07-01T07:00:00.000Z');
    expect(slotInstant('not a key', 'Europe/Amsterdam')).toBeUndefined();
  });

  it('local date, time and weekday of an instant in a zone', () => {
    // 23:30 UTC on Tuesday is 08:30 on Wednesday in Tokyo.
    expect(localParts(d('2026-11-24T23:30:00Z'), 'Asia/Tokyo')).toEqual({ date: '2026-11-25', time: '08:30', weekday: 3 });
    expect(localParts(d('2026-11-24T23:30:00Z'), 'America/New_York')).toEqual({ date: '2026-11-24', time: '18:30', weekday: 2 });
  });

  it('calendar days are counted zone-free: a server in Samoa, which skipped 30 December 2011, finds the same slots', () => {
    Settings.defaultZone = 'Pacific/Apia';
    // 12:00 UTC on Friday 30 December 2011 is 13:00 in Amsterdam: that morning's 09:00 slot is the latest.
    expect(slotFor(d('2011-12-30T12:00:00Z'), EVERY_DAY)).toMatchObject({ key: '2011-12-30T09:00', date: '2011-12-30' });
  });

  it('the latest slot eight days back is still found (Samoa, where Friday 30 December 2011 did not exist)', () => {
    // Fridays only. 05:00 on Saturday 31 December in Apia: the slot "30 December 09:00" falls into the skipped
    // day and so lies at 09:00 on the 31st, still ahead; the latest one is Friday 23 December, eight days back.
    const apiaFridays: ScheduleSettings = { timezone: 'Pacific/Apia', digestTime: '09:00', weekdays: [5] };
    const now = d('2011-12-30T15:00:00Z');
    expect(slotFor(now, apiaFridays)).toMatchObject({ key: '2011-12-23T09:00', date: '2011-12-23' });
  });
});
