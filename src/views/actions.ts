/**
 * Interaction ids, shared by every platform: Slack `action_id` / `callback_id` and Teams `Action.Execute`
 * verb are the same string (DESIGN §3). Manifests and tests import these.
 */
export const ACTIONS = {
  assignOwner: 'assign_owner',
  markDone: 'mark_done',
  reopenStep: 'reopen_step',
  runCheck: 'run_check',
  openHelp: 'open_help',
  snoozeStep: 'snooze_step',
  openCard: 'open_card',
  setupSubmit: 'setup_submit',
} as const;

export type ActionId = (typeof ACTIONS)[keyof typeof ACTIONS];

/** Button values carry the rollout and the step, so a click is self-contained (App Home, DMs, cards). */
export function encodeStepRef(rolloutId: string, stepId: string): string {
  return `${stepId}@${rolloutId}`;
}

export function decodeStepRef(value: string | undefined): { rolloutId: string; stepId: string } | undefined {
  // A payload is JSON from outside: a value that is not a string is no reference (found by fuzzing).
  if (typeof value !== 'string' || !value) return undefined;
  const at = value.indexOf('@');
  if (at <= 0 || at === value.length - 1) return undefined;
  return { stepId: value.slice(0, at), rolloutId: value.slice(at + 1) };
}
