import type { MessageRef, Rollout } from '../checklist/model';

/**
 * Shapes the scheduler shares with the chat platforms. The publishing ports themselves are
 * ConversationPublisher and Notifier in src/interactions/ports.ts.
 */

export interface PostedDigest {
  /** Where the digest landed, for later updates and audit. */
  ref?: MessageRef;
  /** A link to the message, where the platform has one. */
  permalink?: string;
}

/**
 * Re-runs the automated checks of a rollout and records the results (through
 * `ChecklistService.recordChecks`). Throws a `BwprepError` (e.g. `bitwarden_unavailable`) when the checks
 * could not run; the digest then still goes out, saying so.
 */
export type DigestVerifier = (rollout: Rollout) => Promise<void>;

