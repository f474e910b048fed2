import { BwprepError } from '../core/errors';
import { hostOf } from './errors';

/**
 * The request budget of one verification run (issue 8 §4, DESIGN §8): no run makes more HTTP requests to
 * Bitwarden than a limit derived from the organization's size, whatever the server answers (a paging that
 * never ends, tokens that cycle, 429s, per-id reads on old servers). Every try counts, retries included.
 *
 *   limit = FIXED + PER_ID × (groups + collections) + EVENT_PAGES_MIN + ⌈members × EVENTS_PER_MEMBER_DAY × EVENT_DAYS / PAGE_SIZE⌉
 *
 * - FIXED (60): token (2, one refresh), config, 5 list endpoints and the subscription probe, each with its
 *   retries (3 tries on 5xx, 3 waits on 429).
 * - PER_ID (2): one `GET /public/groups/{id}` or `/public/collections/{id}` per item when an old server
 *   leaves associations out of the lists, with one retry each.
 * - Event pages: the server's page size is 50 (bitwarden/server src/Core/Models/Data/PageOptions.cs);
 *   EVENTS_PER_MEMBER_DAY (100) is a generous ceiling on what one member's clients log in a day, over the
 *   30-day window plus the late-event overlap (EVENT_DAYS 33).
 *
 * Until the member, group and collection counts are known the limit is PROVISIONAL; an event page past it
 * waits for the counts (other requests may go on up to PROVISIONAL × 10, the limit that also applies when the
 * member list failed).
 */
const BUDGET = {
  FIXED: 60,
  PER_ID: 2,
  EVENT_PAGES_MIN: 10,
  EVENTS_PER_MEMBER_DAY: 100,
  EVENT_DAYS: 33,
  PAGE_SIZE: 50,
  PROVISIONAL: 200,
} as const;

/**
 * Most per-id reads one run makes to fill in associations an old server leaves out of the lists (one
 * request each, on top of the lists). Past it, 4b/4c say `manual` with the reason instead.
 */
export const PER_ID_READ_LIMIT = 500;

export interface OrgSize {
  members: number;
  groups: number;
  collections: number;
}

/** The limit for an organization of this size (see the module comment). */
export function budgetFor(size: OrgSize): number {
  const b = BUDGET;
  return (
    b.FIXED +
    b.PER_ID * (size.groups + size.collections) +
    b.EVENT_PAGES_MIN +
    Math.ceil((Math.max(1, size.members) * b.EVENTS_PER_MEMBER_DAY * b.EVENT_DAYS) / b.PAGE_SIZE)
  );
}

export class RequestBudget {
  /** Requests taken so far (each try counts). */
  used = 0;
  private limit: number | undefined;
  private readonly sized: Promise<void>;
  private resolveSized!: () => void;

  constructor(limit?: number) {
    this.limit = limit;
    this.sized = new Promise<void>((resolve) => {
      this.resolveSized = resolve;
    });
    if (limit !== undefined) this.resolveSized();
  }

  /** Sets the limit from the organization's size (or from nothing: the endpoints failed). */
  setSize(size: OrgSize | undefined): void {
    if (this.limit !== undefined) return;
    this.limit = size ? budgetFor(size) : BUDGET.PROVISIONAL * 10;
    this.resolveSized();
  }

  /** The current limit: the final one once known, else the provisional one. */
  get max(): number {
    return this.limit ?? BUDGET.PROVISIONAL;
  }

  /** Takes one request for `url`, or throws `budgetError` when the run has used its budget. */
  async take(url: string): Promise<void> {
    if (this.limit === undefined && this.used >= BUDGET.PROVISIONAL) {
      // Only event pages wait for the counts (the lists they wait for may themselves need a retry).
      if (url.includes('/public/events')) await this.sized;
      else if (this.used >= BUDGET.PROVISIONAL * 10) throw budgetError(url, BUDGET.PROVISIONAL * 10);
      else {
        this.used++;
        return;
      }
    }
    if (this.used >= this.max) throw budgetError(url, this.max);
    this.used++;
  }

  /** True when one more request is allowed (for a retry decision; does not take it). */
  canTake(): boolean {
    return this.used < this.max;
  }
}

function budgetError(url: string, limit: number): BwprepError {
  const host = hostOf(url);
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // keep the raw text
  }
  return new BwprepError(
    'bitwarden_bad_response',
    { key: 'bw.error.budget', vars: { host, path, limit } },
    { detail: `request budget of ${limit} used up at ${host}${path}` },
  );
}
