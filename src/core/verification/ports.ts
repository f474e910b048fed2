import type { CheckStatus, Evidence, Message, RolloutSettings } from '../checklist/model';

/**
 * What the verification service needs from Bitwarden, kept platform-free: the implementation (undici
 * client, zod schemas, check modules) lives in src/bitwarden.
 */

/** An organization API key in clear text, resolved just before a run and never stored in this form. */
export interface OrgCredentials {
  clientId: string;
  clientSecret: string;
}

/** The verdict of one step's check. */
export interface CheckOutcome {
  status: CheckStatus;
  summary: Message;
  evidence: Evidence;
}

/** The settings a run reads from a rollout. */
export type VerificationSettings = Pick<RolloutSettings, 'hosting' | 'serverUrl' | 'desiredPolicies' | 'thresholds'>;

export interface VerificationRequest {
  /** For per-rollout state such as logs; the event high-water mark is keyed by organization, not rollout. */
  rolloutId: string;
  settings: VerificationSettings;
  credentials: OrgCredentials;
  /** Canonical step ids to check, in template order. */
  stepIds: string[];
}

export interface BitwardenVerifier {
  /**
   * Runs the checks of `stepIds` against one organization and returns one outcome per step id. An
   * endpoint that fails gives `error` outcomes (endpoint and reason as evidence) for the steps that need it
   * only. Throws a BwprepError (bitwarden_auth, bitwarden_unavailable, …) only when the run as a whole
   * cannot be done: no or refused key, wrong region, Vaultwarden, TLS, the server unreachable.
   */
  verify(request: VerificationRequest): Promise<Record<string, CheckOutcome>>;
}
