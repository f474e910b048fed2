/**
 * The checklist domain: plain data, no platform types. See ARCHITECTURE.md.
 */

export const LOCALES = ['en', 'nl'] as const;
export type Locale = (typeof LOCALES)[number];

export const HOSTINGS = ['cloud-us', 'cloud-eu', 'self-hosted'] as const;
export type Hosting = (typeof HOSTINGS)[number];

/** Where a change came from; lands in every audit entry. */
export type Surface = 'slack' | 'teams' | 'cli' | 'console' | 'scheduler';

export const STEP_STATES = ['open', 'done', 'verified', 'failing', 'not_applicable'] as const;
export type StepState = (typeof STEP_STATES)[number];

export const CHECK_STATUSES = ['pass', 'fail', 'warn', 'manual', 'error', 'not_applicable'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** A localizable message: an i18n key plus its variables, rendered late in the reader's language. */
export interface Message {
  key: string;
  vars?: Record<string, string | number>;
}

/**
 * A person, platform-qualified: `slack:U0123ABC`, `teams:<aadObjectId>`, `cli:<os user>`.
 * Stored as one string so it can be a map key and an admin-list entry.
 */
export type UserKey = string;

export interface Actor {
  user: UserKey;
  surface: Surface;
  /** Display name where the surface knows it (for audit readability only). */
  name?: string;
  /** True when the surface itself vouches for admin rights (e.g. Slack workspace admin). */
  platformAdmin?: boolean;
  /**
   * True when the surface knows the person is from another organization than the one that installed
   * bwprep (a Slack Connect partner, a Teams guest or a member of another tenant in a shared channel).
   * Such a person may take part, but never starts a rollout: its creator becomes its admin.
   */
  external?: boolean;
}

export interface Evidence {
  /** e.g. `GET /public/policies` */
  endpoint?: string;
  /** What was counted, e.g. `{ confirmedOwners: 1 }` */
  counts?: Record<string, number>;
  /** Offending ids or names (capped by the check). */
  items?: string[];
  /** Free structured detail. */
  detail?: Record<string, unknown>;
  /** ISO time the data was read. */
  at?: string;
}

export interface CheckRecord {
  status: CheckStatus;
  summary: Message;
  evidence: Evidence;
  at: string;
}

/** One check run as kept in the check history: what each step's check said, with its evidence. */
export interface CheckRun {
  at: string;
  actor: UserKey;
  surface: Surface;
  results: { stepId: string; status: CheckStatus; summary: Message; evidence: Evidence }[];
}

export interface StepRecord {
  id: string;
  state: StepState;
  owner?: UserKey;
  /** YYYY-MM-DD in the rollout's time zone. */
  due?: string;
  /** `manual` due dates win over dates planned back from go-live. */
  dueSource?: 'manual' | 'planned';
  /** Who claimed it done, and the note they left. */
  doneBy?: UserKey;
  doneAt?: string;
  note?: string;
  /** Why an admin skipped it (state not_applicable). */
  skipReason?: string;
  /** Not applicable because of the rollout's hosting (computed, never by a person). */
  hostingExcluded?: boolean;
  lastCheck?: CheckRecord;
  updatedAt: string;
  updatedBy?: UserKey;
  /** Day (YYYY-MM-DD, rollout tz) until which reminders are snoozed. */
  snoozedUntil?: string;
}

/** A reference to a message bwprep posted and keeps up to date. */
export interface MessageRef {
  platform: ConversationRef['platform'];
  channel: string;
  ts: string;
}

export interface ConversationRef {
  platform: 'slack' | 'teams' | 'cli';
  /** Slack team id / Teams tenant id / `local`. */
  workspace: string;
  /** Slack channel id / Teams conversation id / `console`. */
  channel: string;
  /** Human name of the channel, where known. */
  name?: string;
  /** Teams needs the service URL for proactive sends. */
  serviceUrl?: string;
}

/** AES-256-GCM blob, base64 parts; see src/store/crypto.ts. */
export interface EncryptedSecret {
  v: 1;
  iv: string;
  tag: string;
  data: string;
}

export interface RolloutSettings {
  locale: Locale;
  hosting: Hosting;
  /** Self-hosted base URL (→ {url}/api, {url}/identity). */
  serverUrl?: string;
  timezone: string;
  /** HH:mm, local to `timezone`. */
  digestTime: string;
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  weekdays: number[];
  /** YYYY-MM-DD */
  goLive?: string;
  /** Rollout admins (UserKeys), besides global admins. */
  admins: UserKey[];
  /** Policy types that step 2a requires (Bitwarden PolicyType numbers). */
  desiredPolicies: number[];
  /** Thresholds for checks, in percent / counts. */
  thresholds: CheckThresholds;
  /** Per-rollout Bitwarden organization API key; secret encrypted. */
  credentials?: { clientId: string; secret: EncryptedSecret };
  /** Whether the daily digest is on. */
  digestEnabled: boolean;
  /** When an admin first saved the setup dialog (until then the dialog proposes the admin's own time zone). */
  setupAt?: string;
}

export interface CheckThresholds {
  /** 5b: share of confirmed members with an extension login for a pass. */
  extensionPassPct: number;
  /** 6: share of members confirmed for a pass / a warning. */
  onboardingPassPct: number;
  onboardingWarnPct: number;
  /** 4d: confirmed owners needed for a pass. */
  minOwners: number;
}

export const DEFAULT_THRESHOLDS: CheckThresholds = {
  extensionPassPct: 80,
  onboardingPassPct: 90,
  onboardingWarnPct: 50,
  minOwners: 2,
};

/**
 * Bitwarden policy types a rollout may require for step 2a (PolicyType in bitwarden/server
 * src/Core/AdminConsole/Enums/PolicyType.cs; the ones with an admin-facing meaning).
 */
export const KNOWN_POLICY_TYPES = [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 14, 15, 16, 18, 19, 20] as const;

/** The checks' thresholds a rollout sets, with their bounds: validateSetup's, and the setup forms' min/max. */
export const THRESHOLD_LIMITS = {
  extensionPassPct: { min: 1, max: 100 },
  onboardingPassPct: { min: 1, max: 100 },
  onboardingWarnPct: { min: 0, max: 100 },
  minOwners: { min: 1, max: 20 },
} as const;
export type ThresholdField = keyof typeof THRESHOLD_LIMITS;

/** What a threshold outside its bounds (or not a whole number) says: a percentage or a count, with the bounds. */
export function thresholdError(f: ThresholdField): Message {
  return { key: f === 'minOwners' ? 'setup.error.min_owners' : 'setup.error.percent', vars: { ...THRESHOLD_LIMITS[f] } };
}

/** Default desired policies for 2a: two-step login, master password, single organization. */
export const DEFAULT_DESIRED_POLICIES = [0, 1, 3];

export interface DigestDay {
  /** YYYY-MM-DD in the rollout tz. */
  date: string;
  stepsPct: number;
  hoursPct: number;
}

export interface DigestState {
  /** The slot key of the last digest posted (`YYYY-MM-DDTHH:mm` local). */
  lastSlot?: string;
  lastPostedAt?: string;
  /**
   * The slot whose post was recorded last. `lastSlot` ≠ `postedSlot` means a claim without a recorded post
   * (the process died between the two, or a post is under way). Recorded by key, not by comparing
   * `lastPostedAt` with the slot's instant: that instant moves when the rollout's time zone changes.
   * Absent in states written before it existed.
   */
  postedSlot?: string;
  /**
   * A claimed slot the scheduler gave up on (its post failed `maxPostAttempts` times): nothing went out,
   * and the reconciliation of unrecorded claims leaves it alone. Compared with `lastSlot`, so a later
   * claim makes it stale without a write.
   */
  abandonedSlot?: string;
  /** Step states at the last digest, for "what changed". */
  lastStates?: Record<string, StepState>;
  /** Readiness per day, most recent last, capped. */
  history: DigestDay[];
}

/** A further conversation a rollout is linked to (another channel, another platform), with its own card. */
export interface LinkedConversation {
  conversation: ConversationRef;
  /** The living card in that conversation. */
  card?: MessageRef;
  linkedAt: string;
  linkedBy: UserKey;
}

export interface Rollout {
  /** The key of the conversation it was created in: `slack:T…:C…`. */
  id: string;
  /** The conversation it was created in (its home); further ones are in `links`. */
  conversation: ConversationRef;
  /** Further linked conversations, each with its own living card (`link` / `unlink`). */
  links?: LinkedConversation[];
  templateId: string;
  templateVersion: number;
  settings: RolloutSettings;
  steps: Record<string, StepRecord>;
  /** The living checklist card. */
  card?: MessageRef;
  /**
   * Set when the platform refused a scheduled post for a lasting reason (bot removed, channel archived,
   * installation revoked): no digest is attempted until the bot posts there again. `installation`: the
   * app itself is gone from the workspace (uninstalled, token revoked), so no reminder DMs either.
   */
  unreachable?: { code: string; since: string; installation?: boolean };
  digest: DigestState;
  createdAt: string;
  createdBy: UserKey;
  /** Optimistic-concurrency version, bumped by the store on every write. */
  version: number;
}

export type AuditAction =
  | 'rollout.created'
  | 'step.assigned'
  | 'step.unassigned'
  | 'step.done'
  | 'step.reopened'
  | 'step.skipped'
  | 'step.due_set'
  | 'step.snoozed'
  | 'step.check'
  | 'rollout.locale_set'
  | 'rollout.settings_updated'
  | 'rollout.credentials_set'
  | 'rollout.card_posted'
  | 'rollout.unreachable'
  | 'rollout.reachable'
  | 'rollout.linked'
  | 'rollout.unlinked'
  | 'digest.posted';

export interface AuditEntry {
  rolloutId: string;
  at: string;
  actor: UserKey;
  surface: Surface;
  action: AuditAction;
  stepId?: string;
  /** State or value before / after, where it makes sense. */
  from?: string;
  to?: string;
  detail?: Record<string, unknown>;
}

export function conversationKey(c: Pick<ConversationRef, 'platform' | 'workspace' | 'channel'>): string {
  return `${c.platform}:${c.workspace}:${c.channel}`;
}

/** Every conversation of a rollout, its home first, each with its living card. */
export function conversationsOf(r: Pick<Rollout, 'conversation' | 'card' | 'links'>): { conversation: ConversationRef; card?: MessageRef }[] {
  return [
    { conversation: r.conversation, ...(r.card ? { card: r.card } : {}) },
    ...(r.links ?? []).map((l) => ({ conversation: l.conversation, ...(l.card ? { card: l.card } : {}) })),
  ];
}

/** True when `c` is one of the rollout's conversations. */
export function hasConversation(r: Pick<Rollout, 'conversation' | 'links'>, c: Pick<ConversationRef, 'platform' | 'workspace' | 'channel'>): boolean {
  const key = conversationKey(c);
  return conversationKey(r.conversation) === key || (r.links ?? []).some((l) => conversationKey(l.conversation) === key);
}
