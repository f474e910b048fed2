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
 * What a platform can tell about a scheduled digest that was claimed but never recorded as posted
 * (ConversationPublisher.findDigest, the scheduler's reconciliation):
 * - `found`: the digest of that rollout and slot is in the conversation (from our own bot); record it, do not post.
 * - `absent`: the platform is sure it is not there; post it now.
 * - `unknown`: the platform cannot tell (a permission is missing, the conversation cannot be read); the
 *   scheduler keeps the at-most-once choice: no post, a warning.
 */
export type DigestLookup = { status: 'found'; digest: PostedDigest } | { status: 'absent' } | { status: 'unknown'; reason: string };

/**
 * Re-runs the automated checks of a rollout and records the results (through
 * `ChecklistService.recordChecks`). Throws a `BwprepError` (e.g. `bitwarden_unavailable`) when the checks
 * could not run; the digest then still goes out, saying so.
 */
export type DigestVerifier = (rollout: Rollout) => Promise<void>;
