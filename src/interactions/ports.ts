import type { Actor, ConversationRef, Locale, Message, MessageRef, RolloutSettings, UserKey } from '../core/checklist/model';
import type { DigestLookup, PostedDigest } from '../core/digest/ports';
import type { CheckReportView } from '../views/check-report';
import type { ChecklistView } from '../views/checklist';
import type { DigestView } from '../views/digest';
import type { ReminderView } from '../views/reminder';
import type { Rich } from '../views/rich';
import type { HelpView, MineView } from '../views/text';

/**
 * The ports through which the application layer (src/interactions) talks to a chat platform. Slack, Teams
 * and the terminal console each implement them; nothing here knows a wire format. A new platform implements
 * `ChatPlatform`, registers it in `Platforms`, and translates its requests into calls of `Interactions`.
 */

export type PlatformId = ConversationRef['platform'];

/** What a platform knows about a person. */
export interface UserProfile {
  user: UserKey;
  /** False for an unknown or deactivated account. */
  exists: boolean;
  /** Why `exists` is false, where the platform tells: `deactivated` or `unknown`. */
  missing?: 'deactivated' | 'unknown';
  /** The person's own language, where the platform tells it and bwprep speaks it. */
  locale?: Locale;
  /** IANA time zone of the person, where the platform tells it. */
  tz?: string;
  name?: string;
  /** The platform vouches for admin rights in the installing workspace/tenant (never for guests). */
  platformAdmin: boolean;
}

export interface UserDirectory {
  /** Never throws for an unknown user (returns `exists: false`); throws for platform outages. */
  profile(user: UserKey): Promise<UserProfile>;
}

/** The living checklist card in one conversation. */
export interface CardSurface {
  /** Posts a new card; returns where it landed. Throws a `ConversationError` when the bot cannot post there. */
  post(conversation: ConversationRef, view: ChecklistView): Promise<MessageRef>;
  /** Replaces the card's content. Throws `CardGoneError` when the card no longer exists. */
  update(ref: MessageRef, view: ChecklistView, opts?: { checking?: boolean }): Promise<void>;
  /** Turns an old card into a one-line "replaced" note. May throw; callers treat it as best effort. */
  retire(ref: MessageRef, locale: Locale): Promise<void>;
}

/** Messages everyone in a conversation sees. */
export interface ConversationPublisher {
  /**
   * Posts the digest. Throwing means "not posted" (the scheduler may retry); an implementation must not
   * throw after the message went out. `opts.once`: the caller will look for this post (`findDigest`) if
   * the answer is unclear, so the platform must not resend it, and throws `PlatformError.uncertain` when
   * it cannot tell whether the post went out. Without it the platform retries as for any message.
   */
  postDigest(conversation: ConversationRef, view: DigestView, card?: MessageRef, opts?: { once?: boolean }): Promise<PostedDigest>;
  /**
   * Optional: whether the scheduled digest of `digest.rolloutId` for `digest.slot` was posted in the
   * conversation, at or after `since` (the scheduler passes a margin before the slot's instant), by this bot. Only a platform that can read the
   * conversation's history and tag its posts implements it (Slack: message metadata and
   * conversations.history; Teams: a marker id on the digest card and Microsoft Graph); without it a digest whose process died between the claim and the record stays
   * at most once. Returns `unknown` when the platform cannot tell (e.g. a missing scope); throws for a
   * transient failure (the scheduler asks again later, and posts nothing meanwhile).
   */
  findDigest?(conversation: ConversationRef, digest: { rolloutId: string; slot: string }, since: Date): Promise<DigestLookup>;
  postCheckReport(conversation: ConversationRef, view: CheckReportView): Promise<void>;
}

export type DirectMessage =
  | { kind: 'reminder'; view: ReminderView }
  /** `tone`: the notice's icon, as in a reply (default `info`). */
  | { kind: 'notice'; lines: Rich[]; tone?: NoticeTone }
  | { kind: 'check_report'; view: CheckReportView };

export interface Notifier {
  /** A direct message. Returns false when the person cannot be reached on this platform (nothing was sent). */
  send(user: UserKey, message: DirectMessage): Promise<boolean>;
}

export interface ChatPlatform {
  id: PlatformId;
  directory: UserDirectory;
  cards: CardSurface;
  publisher: ConversationPublisher;
  notifier?: Notifier;
  /** What to do about a stored lasting error code of this platform (Rollout.unreachable.code), if known. */
  explain?(code: string): Message | undefined;
}

/** The form a platform shows for `setup` (a Slack modal, a Teams card, console lines). */
export interface SetupFormView {
  rolloutId: string;
  settings: RolloutSettings;
  locale: Locale;
  /** The time zone to propose: the rollout's once set up, else the admin's own. */
  timezone: string;
  encryptionAvailable: boolean;
}

/** A report file for `export`. */
export interface ExportFile {
  filename: string;
  content: string;
  format: 'csv' | 'md' | 'json';
  /** The line posted with the file. */
  comment: string;
  /**
   * For the requester, in their language, when the platform could not put the file in the conversation and
   * sent it to them privately instead (a Slack DM between two people, a private channel without the bot).
   */
  sentPrivately?: Rich;
}

/** `refused`: the requester may not do this (a permission refusal); `warn`: anything else that went wrong. */
export type NoticeTone = 'ok' | 'info' | 'warn' | 'refused' | 'wait' | 'snooze' | 'fail';

/** What the requester alone sees. Each platform maps every kind to its wire (ephemeral, invoke answer, DM…). */
export type Reply =
  | { kind: 'notice'; tone: NoticeTone; lines: Rich[] }
  | { kind: 'help'; view: HelpView }
  | { kind: 'mine'; view: MineView }
  | { kind: 'check_report'; view: CheckReportView }
  | { kind: 'setup'; form: SetupFormView }
  | { kind: 'file'; file: ExportFile };

/** The person behind a command or click, as the platform adapter resolved them. */
export interface Requester {
  actor: Actor;
  /** The platform and workspace (Slack team, Teams tenant) the request came from. */
  scope: { platform: PlatformId; workspace: string };
  /** The person's own language where the platform tells it. */
  locale?: Locale;
  /** The person's time zone where the platform tells it. */
  tz?: string;
  /** Answers only the requester. Must not throw for delivery failures it can log itself. */
  reply(reply: Reply): Promise<void>;
  /**
   * Called once the request's own work is done and only the living card's update is left, which the card's
   * per-rollout coalescing bounds: a platform may give back per-request capacity here (Slack's work queue).
   * `cardOnly` is true when the requester has had every reply but one that can only come from the card
   * update for everyone, which is all that is left (a stored change: `error.card_not_updated` if that update
   * fails; a refused owner change: the card snapping back). A platform whose answer carries the result (a
   * Teams invoke) may answer then, without waiting for the card update.
   */
  settled?(outcome?: { cardOnly: boolean }): void;
}
