import type { Evidence, Hosting, Message } from '../../core/checklist/model';
import type { CheckContext, CheckOutcome } from './types';
import type { Collection, Group, Member } from '../schemas';

/** Offending items listed in evidence and summaries. */
const ITEM_CAP = 20;

export function isCloud(h: Hosting): boolean {
  return h !== 'self-hosted';
}

/** Caps a list for evidence: the first ITEM_CAP items, and how many were left out. */
function capped(items: string[], cap = ITEM_CAP): { items: string[]; more: number } {
  return { items: items.slice(0, cap), more: Math.max(0, items.length - cap) };
}

/** "a, b, c (+5)" — language-neutral, for summary vars. Short lists only (≤ 5 named). */
export function listText(items: string[], shown = 5): string {
  const head = items.slice(0, shown).join(', ');
  return items.length > shown ? `${head} (+${items.length - shown})` : head;
}

export function pct(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;
}

export function memberLabel(m: Member): string {
  return m.email ?? m.name ?? m.id;
}

export function groupLabel(g: Group): string {
  return g.name ? `${g.name} (${g.id})` : g.id;
}

export function collectionLabel(c: Pick<Collection, 'id' | 'externalId'>): string {
  return c.externalId ? `${c.externalId} (${c.id})` : c.id;
}

export function evidence(ctx: CheckContext, e: Omit<Evidence, 'at'> & { offending?: string[] }): Evidence {
  const { offending, ...rest } = e;
  const out: Evidence = { ...rest, at: ctx.now.toISOString() };
  if (offending) {
    const c = capped(offending);
    out.items = c.items;
    if (c.more) out.detail = { ...(out.detail ?? {}), moreItems: c.more };
  }
  return out;
}

export function outcome(status: CheckOutcome['status'], key: string, vars: Message['vars'], ev: Evidence): CheckOutcome {
  return { status, summary: vars ? { key, vars } : { key }, evidence: ev };
}

export { policyName } from '../../i18n';

export function notApplicableOnCloud(ctx: CheckContext): CheckOutcome {
  return outcome('not_applicable', 'check.na_cloud', { hosting: ctx.hosting }, evidence(ctx, { detail: { hosting: ctx.hosting } }));
}
