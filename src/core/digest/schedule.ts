import { DateTime } from 'luxon';
import { BwprepError } from '../errors';
import type { RolloutSettings } from '../checklist/model';

/**
 * Digest slot arithmetic (DESIGN §6). Pure functions over a passed-in `now`.
 *
 * A *slot* is one scheduled digest: a local date in the rollout's time zone on one of its weekdays, at its
 * digest time. Its key is the nominal local time, `YYYY-MM-DDTHH:mm`, so it reads the same in summer and
 * winter and identifies the slot across restarts and replicas (stored as `DigestState.lastSlot`).
 *
 * DST: the local wall-clock time is kept (09:00 Europe/Amsterdam is 08:00Z in winter and 07:00Z in summer).
 * A local time that does not exist on the spring-forward day (02:30 on 29 March 2026 in Amsterdam) is moved
 * forward by the gap (→ 03:30 CEST, luxon's rule); a time that exists twice on the fall-back day (02:30 on
 * 25 October 2026) resolves to one instant. Either way the key stays `…T02:30`, so there is exactly one
 * slot per local day.
 */

export type ScheduleSettings = Pick<RolloutSettings, 'timezone' | 'digestTime' | 'weekdays'>;

export interface Slot {
  /** `YYYY-MM-DDTHH:mm`, nominal local time in the rollout's time zone. */
  key: string;
  /** YYYY-MM-DD, local. */
  date: string;
  /** The instant the slot falls on. */
  at: Date;
}

export interface DueSlot extends Slot {
  /** Posted more than `graceMs` after its time (catch-up after downtime): the digest says so. */
  late: boolean;
}

export interface DueOptions {
  /** A slot posted within this long after its time is on time. Default 15 minutes. */
  graceMs?: number;
  /** A slot older than this is not posted any more (the next one will be). Default 24 hours. */
  maxLateMs?: number;
  /** Slots before this instant are never due (the rollout's creation: a new rollout gets no late digest). */
  notBefore?: Date;
}

const DEFAULT_GRACE_MS = 15 * 60_000;
const DEFAULT_MAX_LATE_MS = 24 * 3_600_000;

const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** Enough to find a slot on any weekday pattern (one week plus a day for the time of day). */
const SEARCH_DAYS = 8;

interface Parsed {
  zone: string;
  hour: number;
  minute: number;
  weekdays: Set<number>;
}

const knownZones = new Set<string>();

function validZone(zone: string): boolean {
  if (knownZones.has(zone)) return true;
  if (!DateTime.now().setZone(zone).isValid) return false;
  knownZones.add(zone);
  return true;
}

function parse(settings: ScheduleSettings): Parsed {
  const m = TIME_RE.exec(settings.digestTime);
  if (!m) {
    throw new BwprepError('invalid_setting', { key: 'digest.error.bad_time', vars: { value: settings.digestTime } });
  }
  if (!validZone(settings.timezone)) {
    throw new BwprepError('invalid_setting', { key: 'digest.error.bad_timezone', vars: { value: settings.timezone } });
  }
  return { zone: settings.timezone, hour: Number(m[1]), minute: Number(m[2]), weekdays: new Set(settings.weekdays) };
}

/** The slot on a local calendar day (luxon `DateTime` at the day's start), or undefined on a day off. */
function slotOn(day: DateTime, p: Parsed): Slot | undefined {
  if (!p.weekdays.has(day.weekday)) return undefined;
  const at = DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: p.hour, minute: p.minute }, { zone: p.zone });
  const date = day.toFormat('yyyy-MM-dd');
  return { key: `${date}T${pad(p.hour)}:${pad(p.minute)}`, date, at: at.toJSDate() };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local calendar day `offset` days from the local day of `now`; calendar arithmetic, not 24 h steps. */
function localDay(today: DateTime, offset: number): DateTime {
  // Work on a zone-free calendar date so a DST day (23 or 25 hours) cannot shift the date.
  return DateTime.fromObject({ year: today.year, month: today.month, day: today.day }, { zone: 'UTC' }).plus({ days: offset });
}

/** The most recent slot at or before `now`, or undefined when no weekday is set. */
export function slotFor(now: Date, settings: ScheduleSettings): Slot | undefined {
  const p = parse(settings);
  const today = DateTime.fromJSDate(now, { zone: p.zone });
  for (let back = 0; back <= SEARCH_DAYS; back++) {
    const s = slotOn(localDay(today, -back), p);
    if (s && s.at.getTime() <= now.getTime()) return s;
  }
  return undefined;
}

/** The first slot strictly after `now` (for "next digest: …" in setup and App Home). */
export function nextSlot(now: Date, settings: ScheduleSettings): Slot | undefined {
  const p = parse(settings);
  const today = DateTime.fromJSDate(now, { zone: p.zone });
  for (let ahead = 0; ahead <= SEARCH_DAYS; ahead++) {
    const s = slotOn(localDay(today, ahead), p);
    if (s && s.at.getTime() > now.getTime()) return s;
  }
  return undefined;
}

/**
 * The slot that should be posted now, if any: the most recent slot, unless it was already posted
 * (`lastSlot` ≥ its key) or is older than `maxLateMs`. Catch-up after downtime therefore posts only the
 * newest missed slot, once, flagged `late`; older missed slots are never back-posted. A slot older than
 * `maxLateMs` (e.g. Friday's digest when the bot comes back on Sunday) is skipped: the next slot is closer
 * and more useful than a stale one.
 */
export function dueSlot(now: Date, settings: ScheduleSettings, lastSlot: string | undefined, opts: DueOptions = {}): DueSlot | undefined {
  const s = slotFor(now, settings);
  if (!s) return undefined;
  if (alreadyPosted(s, lastSlot)) return undefined;
  if (opts.notBefore && s.at.getTime() < opts.notBefore.getTime()) return undefined;
  const age = now.getTime() - s.at.getTime();
  if (age > (opts.maxLateMs ?? DEFAULT_MAX_LATE_MS)) return undefined;
  return { ...s, late: age > (opts.graceMs ?? DEFAULT_GRACE_MS) };
}

/**
 * One digest per local day: a slot counts as posted when the last posted slot is on the same day or later.
 * Comparing days, not whole keys, means moving the digest time from 08:00 to 09:00 after the 08:00 digest
 * went out does not post a second one that day.
 */
export function alreadyPosted(slot: Pick<Slot, 'date'>, lastSlot: string | undefined): boolean {
  return !!lastSlot && lastSlot.slice(0, 10) >= slot.date;
}

/** True when the newest slot was missed for good (older than `maxLateMs`, never posted): worth a log line. */
export function missedSlot(now: Date, settings: ScheduleSettings, lastSlot: string | undefined, opts: DueOptions = {}): Slot | undefined {
  const s = slotFor(now, settings);
  if (!s || alreadyPosted(s, lastSlot)) return undefined;
  if (opts.notBefore && s.at.getTime() < opts.notBefore.getTime()) return undefined;
  return now.getTime() - s.at.getTime() > (opts.maxLateMs ?? DEFAULT_MAX_LATE_MS) ? s : undefined;
}

/** The instant of a slot key in a zone (the same DST rules as `slotFor`). */
export function slotInstant(key: string, timezone: string): Date | undefined {
  const d = DateTime.fromISO(key, { zone: timezone });
  return d.isValid ? d.toJSDate() : undefined;
}

/** Local `YYYY-MM-DD` and `HH:mm`, ISO weekday of an instant in a zone (used by reminders and views). */
export function localParts(now: Date, zone: string): { date: string; time: string; weekday: number } {
  const d = DateTime.fromJSDate(now, { zone });
  return { date: d.toFormat('yyyy-MM-dd'), time: d.toFormat('HH:mm'), weekday: d.weekday };
}
