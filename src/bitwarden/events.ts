import { createHash } from 'node:crypto';
import type { Clock, KeyValueStore } from '../core/ports';
import type { RequestBudget } from './budget';
import { badResponse, pagingLoopError } from './errors';
import { type BwEvent, EVENT_USER_LOGGED_IN, type EventPage, EXTENSION_DEVICES, EXTENSION_USE_EVENT_TYPES } from './schemas';

/**
 * Incremental reading of `GET /public/events` (reference §3.7, §7.2):
 * - the first run reads a 30-day window; later runs start EVENT_OVERLAP_MS before the stored high-water
 *   mark, because clients upload the events they collect in batches, stamped with the time they were
 *   collected (see EVENT_OVERLAP_MS), and the server files them under that date. Events read before are
 *   recognized by a short hash kept for the overlap and not counted again;
 * - `end` is now − 30 s (cloud events are eventually consistent);
 * - every page carries the same `start`/`end` plus the continuation token; an empty page with a token is
 *   not the end; a token seen before in the same read (A→B→A…) stops the paging at once
 *   (bitwarden_bad_response), and every page is a request of the run's budget.
 * The facts checks need (last extension use and last login per user, 30 days) are kept in the store
 * as compact maps, so an incremental run still knows the whole window.
 */

const EVENT_WINDOW_DAYS = 30;
const EVENT_LAG_MS = 30_000;
const DAY_MS = 86_400_000;
const STATE_TTL_MS = 90 * DAY_MS;

/**
 * How far behind the high-water mark each incremental read starts again: 72 hours.
 *
 * Bitwarden clients collect client events (item viewed, password copied, autofill…) in local state on disk
 * with the date of collection (bitwarden/clients libs/common/src/services/event/event-collection.service.ts:
 * `date: new Date().toISOString()`; state `eventCollection` on disk, libs/common/src/platform/state/
 * state-definitions.ts) and upload them every 60 seconds, but only while the vault is unlocked
 * (libs/common/src/services/event/event-upload.service.ts: `setInterval(eventUploadsInterval, 60 * 1000)`,
 * and `uploadEvents` returns early unless the account is Unlocked; a failed upload puts the events back).
 * An event collected just before the vault locks or the laptop sleeps is therefore uploaded at the next
 * unlock: the next morning, or after a weekend. 72 h covers a vault locked from Friday evening to Monday
 * morning; an event uploaded later than that is only seen by a first (full-window) read.
 */
export const EVENT_OVERLAP_MS = 72 * 3_600_000;

export interface EventSource {
  eventsPage(params: { start: string; end: string; continuationToken?: string | null }, budget?: RequestBudget): Promise<EventPage>;
}

export interface ReadEventsOptions {
  clock?: Clock;
  windowDays?: number;
  lagMs?: number;
  /** Re-read this far behind the high-water mark (default EVENT_OVERLAP_MS). */
  overlapMs?: number;
  /** Safety stop for a server that never ends the paging (on top of the run's request budget). */
  maxPages?: number;
  /** The run's request budget: every page takes one request. */
  budget?: RequestBudget;
}

/** What the store keeps per organization. */
export interface EventState {
  v: 2;
  /** High-water mark: the `end` of the last window read (ISO). */
  cursor: string;
  /** Hashes of events read whose date is within the overlap before `cursor` → their date. */
  seen: Record<string, string>;
  /** userId → ISO date of the last extension use (EXTENSION_USE_EVENT_TYPES from an extension device). */
  extension: Record<string, string>;
  /** userId → ISO date of the last login (event 1000) from any client. */
  logins: Record<string, string>;
}

/** Version 1 (before the overlap): kept only the keys of events dated exactly at the cursor. */
interface EventStateV1 {
  v: 1;
  cursor: string;
  boundaryKeys: string[];
  extension: Record<string, string>;
  logins: Record<string, string>;
}

export interface EventReadResult {
  /** Events new in this run (deduplicated). */
  events: BwEvent[];
  pages: number;
  start: string;
  end: string;
  firstRun: boolean;
  /** Events read again in the overlap and recognized (not counted as new). */
  duplicates: number;
  /** Last-30-day maps, after merging this run. */
  extension: Record<string, string>;
  logins: Record<string, string>;
}

export function eventStateKey(orgKey: string): string {
  return `bw:events:${orgKey}`;
}

function eventKey(e: BwEvent): string {
  return [e.type, e.date, e.actingUserId, e.memberId, e.itemId, e.collectionId, e.groupId, e.policyId, e.device, e.ipAddress].map((x) => x ?? '').join('|');
}

/** A short stable hash of an event (its full key), for recognizing it when the overlap reads it again. */
function eventHash(e: BwEvent): string {
  return createHash('sha256').update(eventKey(e)).digest('base64url').slice(0, 16);
}

/** True when the event shows its acting user using a browser extension (type and device, see schemas.ts). */
export function isExtensionUse(e: BwEvent): boolean {
  return EXTENSION_USE_EVENT_TYPES.has(e.type) && e.device !== null && EXTENSION_DEVICES.has(e.device);
}

function keepNewer(map: Record<string, string>, user: string, date: string): void {
  const cur = map[user];
  // Stryker disable next-line EqualityOperator: equivalent — `<=` writes the same date when both are equal (test/MUTATION.md)
  if (!cur || cur < date) map[user] = date;
}

function prune(map: Record<string, string>, since: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) if (v >= since) out[k] = v;
  return out;
}

function upgrade(prev: EventState | EventStateV1 | undefined): EventState | undefined {
  if (!prev) return undefined;
  if (prev.v === 2) return prev;
  if (prev.v === 1) return { v: 2, cursor: prev.cursor, seen: {}, extension: prev.extension, logins: prev.logins };
  return undefined;
}

export async function readEventsSince(source: EventSource, store: KeyValueStore, orgKey: string, opts: ReadEventsOptions = {}): Promise<EventReadResult> {
  const clock = opts.clock ?? { now: () => new Date() };
  const now = clock.now().getTime();
  const overlap = opts.overlapMs ?? EVENT_OVERLAP_MS;
  const windowStart = new Date(now - (opts.windowDays ?? EVENT_WINDOW_DAYS) * DAY_MS).toISOString();
  const end = new Date(now - (opts.lagMs ?? EVENT_LAG_MS)).toISOString();
  const key = eventStateKey(orgKey);
  const state = upgrade(await store.get<EventState | EventStateV1>(key));
  const resume = state ? new Date(Date.parse(state.cursor) - overlap).toISOString() : windowStart;
  // Stryker disable next-line EqualityOperator: equivalent — `>=` picks the same instant when both are equal
  const start = resume > windowStart ? resume : windowStart;
  const seen = new Map(Object.entries(state?.seen ?? {}));
  // Stryker disable next-line StringLiteral: equivalent — the `?? ''` fallback never runs (split returns at least one element)
  const url = `${orgKey.split('|')[0] ?? ''}/public/events`;

  const events: BwEvent[] = [];
  let duplicates = 0;
  let pages = 0;
  if (start < end) {
    let token: string | null = null;
    const tokens = new Set<string>();
    const maxPages = opts.maxPages ?? 100_000;
    for (;;) {
      const page: EventPage = await source.eventsPage({ start, end, continuationToken: token }, opts.budget);
      pages++;
      for (const e of page.data) {
        const h = eventHash(e);
        if (seen.has(h)) {
          duplicates++;
          continue;
        }
        seen.set(h, e.date);
        events.push(e);
      }
      if (!page.continuationToken) break;
      // A token that comes back (A→A, or A→B→A…) would page forever: stop at once.
      if (tokens.has(page.continuationToken)) throw pagingLoopError(url, pages);
      if (pages >= maxPages) throw badResponse(url, `paging did not end after ${pages} pages`);
      tokens.add(page.continuationToken);
      token = page.continuationToken;
    }
  }

  const extension = { ...(state?.extension ?? {}) };
  const logins = { ...(state?.logins ?? {}) };
  for (const e of events) {
    if (!e.actingUserId) continue;
    if (isExtensionUse(e)) keepNewer(extension, e.actingUserId, e.date);
    if (e.type === EVENT_USER_LOGGED_IN) keepNewer(logins, e.actingUserId, e.date);
  }
  const cursor = start < end ? end : (state?.cursor ?? end);
  // Keep the hashes the next read's overlap will meet again.
  const keepFrom = new Date(Date.parse(cursor) - overlap).toISOString();
  const next: EventState = {
    v: 2,
    cursor,
    seen: prune(Object.fromEntries(seen), keepFrom),
    extension: prune(extension, windowStart),
    logins: prune(logins, windowStart),
  };
  // Kept a while past the window, so an organization checked now and then still reads incrementally.
  await store.set(key, next, STATE_TTL_MS);
  return { events, pages, start, end, firstRun: !state, duplicates, extension: next.extension, logins: next.logins };
}
