import type { MessageRef, Rollout, UserKey } from '../checklist/model';
import type { DigestView } from '../../views/digest';
import type { ReminderView } from '../../views/reminder';
import type { ReminderDue } from './reminders';

/**
 * Ports the scheduler needs from a chat platform (the Slack adapter implements them; Teams later). Type-only
 * imports of the view models: the core stays free of platform and I/O code.
 */

export interface PostedDigest {
  /** Where the digest landed, for later updates and audit. */
  ref?: MessageRef;
  /** A link to the message, where the platform has one. */
  permalink?: string;
}

interface DigestPublisher {
  /**
   * Posts a digest to the rollout's conversation. Throwing means "not posted": the scheduler frees the slot
   * and tries again on a later tick (with back-off), so an implementation must not throw after the message
   * went out (catch and log post-send failures such as a failed permalink lookup instead).
   */
  postDigest(rollout: Rollout, view: DigestView): Promise<PostedDigest>;
}

interface ReminderSender {
  /** Sends one reminder DM to `user`. Throwing means "not sent": the key is freed for a later tick. */
  sendReminder(user: UserKey, view: ReminderView, due: ReminderDue): Promise<void>;
}

/**
 * Re-runs the automated checks of a rollout and records the results (through
 * `ChecklistService.recordChecks`). Throws a `BwprepError` (e.g. `bitwarden_unavailable`) when the checks
 * could not run; the digest then still goes out, saying so.
 */
export type DigestVerifier = (rollout: Rollout) => Promise<void>;

/** The owner's IANA time zone (Slack `users.info` → `tz`), or undefined when unknown. */
type UserTimezoneLookup = (user: UserKey) => Promise<string | undefined>;
