import type { Actor, Rollout, StepRecord } from './model';

/** What the service asks before a change. Running checks is not one: anyone may (read-only), so nothing asks. */
export type Permission = 'mark' | 'assign' | 'assign_self' | 'unassign' | 'skip' | 'due' | 'settings';

/** Global admins (BWPREP_ADMINS), rollout admins, and platform-vouched admins may do everything. */
export function isAdmin(actor: Actor, rollout: Rollout, globalAdmins: readonly string[]): boolean {
  return Boolean(actor.platformAdmin) || globalAdmins.includes(actor.user) || rollout.settings.admins.includes(actor.user);
}

/**
 * DESIGN §7: anyone reads; a step's owner or an admin marks it done / reopens it and sets its due date;
 * admins assign others, skip, and change settings. Anyone may take an unowned step for themselves and
 * hand back a step they own; anyone may run checks (read-only against Bitwarden).
 */
export function allowed(perm: Permission, actor: Actor, rollout: Rollout, step: StepRecord | undefined, globalAdmins: readonly string[]): boolean {
  if (isAdmin(actor, rollout, globalAdmins)) return true;
  const owns = step?.owner === actor.user;
  switch (perm) {
    case 'mark':
    case 'due':
      return owns;
    case 'assign_self':
      return !step?.owner || owns;
    case 'unassign':
      return owns;
    default:
      return false;
  }
}
