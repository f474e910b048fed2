import type { Clock, KeyValueStore } from '../core/ports';
import { badResponse } from './errors';
import { type BwEvent, EVENT_CIPHER_AUTOFILLED, EVENT_USER_LOGGED_IN, type EventPage, EXTENSION_DEVICES } from './schemas';

/**
 * Incremental reading of `GET /public/events` (reference §3.7, §7.2):
 * - the first run reads a 30-day window; later runs start at the stored high-water mark (inclusive) and
 *   drop events already seen at that instant (stable event key);
 * - `end` is now − 30 s (cloud events are eventually consistent);
 * - every page carries the same `start`/`end` plus the continuation token; an empty page with a token is
 *   not the end.
 * The facts checks need (last extension login and last login per user, 30 days) are kept in the store
 * as compact maps, so an incremental run still knows the whole window.
 */

export const EVENT_WINDOW_DAYS = 30;
export const EVENT_LAG_MS = 30_000;
const DAY_MS = 86_400_000;
const STATE_TTL_MS = 90 * DAY_MS;

export interface EventSource {
  eventsPage(params: { start: string; end: string; continuationToken?: string | null }): Promise<EventPage>;
}

export interface ReadEventsOptions {
  clock?: Clock;
  windowDays?: number;
  lagMs?: number;
  /** Safety stop for a server that never ends the paging. */
  maxPages?: number;
}

/** What the store keeps per organization. */
export interface EventState {
  v: 1;
  /** High-water mark: the `end` of the last window read (ISO). */
  cursor: string;
  /** Keys of events dated exactly at `cursor`, to drop them when the next window starts there. */
  boundaryKeys: string[];
  /** userId → ISO date of the last browser-extension login / autofill (events 1000/1114, device 2,3,4,5,19,20). */
  extension: Record<string, string>;
  /** userId → ISO date of the last login (event 1000) from any client. */
  logins: Record<string, string>;
}

export interface EventReadResult {
  /** Events new in this run (deduplicated). */
  events: BwEvent[];
  pages: number;
  start: string;
  end: string;
  firstRun: boolean;
  /** Last-30-day maps, after merging this run. */
  extension: Record<string, string>;
  logins: Record<string, string>;
}

export function eventStateKey(orgKey: string): string {
  return `bw:events:${orgKey}`;
}

export function eventKey(e: BwEvent): string {
  return [e.type, e.date, e.actingUserId, e.memberId, e.itemId, e.collectionId, e.groupId, e.policyId, e.device, e.ipAddress].map((x) => x ?? '').join('|');
}

export function isExtensionLogin(e: BwEvent): boolean {
  return (e.type === EVENT_USER_LOGGED_IN || e.type === EVENT_CIPHER_AUTOFILLED) && e.device !== null && EXTENSION_DEVICES.has(e.device);
}

function keepNewer(map: Record<string, string>, user: string, date: string): void {
  const cur = map[user];
  if (!cur || cur < date) map[user] = date;
}

function prune(map: Record<string, string>, since: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) if (v >= since) out[k] = v;
  return out;
}

export async function readEventsSince(source: EventSource, store: KeyValueStore, orgKey: string, opts: ReadEventsOptions = {}): Promise<EventReadResult> {
  const clock = opts.clock ?? { now: () => new Date() };
  const now = clock.now().getTime();
  const windowStart = new Date(now - (opts.windowDays ?? EVENT_WINDOW_DAYS) * DAY_MS).toISOString();
  const end = new Date(now - (opts.lagMs ?? EVENT_LAG_MS)).toISOString();
  const key = eventStateKey(orgKey);
  const prev = await store.get<EventState>(key);
  const state: EventState | undefined = prev && prev.v === 1 ? prev : undefined;
  const start = state && state.cursor > windowStart ? state.cursor : windowStart;
  const seenAtBoundary = new Set(state && start === state.cursor ? state.boundaryKeys : []);

  const events: BwEvent[] = [];
  let pages = 0;
  if (start < end) {
    let token: string | null = null;
    const maxPages = opts.maxPages ?? 100_000;
    for (;;) {
      const page: EventPage = await source.eventsPage({ start, end, continuationToken: token });
      pages++;
      for (const e of page.data) {
        if (e.date === start && seenAtBoundary.has(eventKey(e))) continue;
        events.push(e);
      }
      if (!page.continuationToken) break;
      if (page.continuationToken === token || pages >= maxPages) {
        throw badResponse(`${orgKey.split('|')[0] ?? ''}/public/events`, 'continuation token does not advance');
      }
      token = page.continuationToken;
    }
  }

  const extension = { ...(state?.extension ?? {}) };
  const logins = { ...(state?.logins ?? {}) };
  for (const e of events) {
    if (!e.actingUserId) continue;
    if (isExtensionLogin(e)) keepNewer(extension, e.actingUserId, e.date);
    if (e.type === EVENT_USER_LOGGED_IN) keepNewer(logins, e.actingUserId, e.date);
  }
  const cursor = start < end ? end : (state?.cursor ?? end);
  const boundaryKeys = events.filter((e) => e.date === cursor).map(eventKey);
  if (cursor === state?.cursor) boundaryKeys.push(...(state?.boundaryKeys ?? []));
  const next: EventState = {
    v: 1,
    cursor,
    boundaryKeys: [...new Set(boundaryKeys)],
    extension: prune(extension, windowStart),
    logins: prune(logins, windowStart),
  };
  // Kept a while past the window, so an organization checked now and then still reads incrementally.
  await store.set(key, next, STATE_TTL_MS);
  return { events, pages, start, end, firstRun: !state, extension: next.extension, logins: next.logins };
}
