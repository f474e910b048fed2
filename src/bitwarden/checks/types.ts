import type { Hosting } from '../../core/checklist/model';
import type { CheckOutcome, VerificationSettings } from '../../core/verification/ports';
import type { SubscriptionProbe } from '../client';
import type { EventReadResult } from '../events';
import type { Collection, Group, Member, Policy, ServerConfig } from '../schemas';

export type { CheckOutcome };

/** The data a check may read; every resource is fetched at most once per run. */
export type Resource = 'token' | 'config' | 'members' | 'groups' | 'collections' | 'access' | 'policies' | 'subscription' | 'events';

/** Groups and collections with their associations, filled in per id where the lists leave them out. */
export interface AccessData {
  groups: Group[];
  collections: Collection[];
  /** False when the server did not send the associations of every group or collection. */
  complete: boolean;
  /** Where the associations come from: the lists, or per-id reads of one side. */
  source: 'lists' | 'per-id groups' | 'per-id collections';
  /** Per-id requests made. */
  perIdReads: number;
  /** Why not complete: too many per-id reads for the budget, or the per-id answers leave them out too. */
  reason?: 'too_many' | 'not_sent';
  /** Groups or collections whose associations are unknown. */
  missing?: number;
}

export interface Snapshot {
  token(): Promise<void>;
  config(): Promise<ServerConfig>;
  members(): Promise<Member[]>;
  groups(): Promise<Group[]>;
  collections(): Promise<Collection[]>;
  access(): Promise<AccessData>;
  policies(): Promise<Policy[]>;
  subscription(): Promise<SubscriptionProbe>;
  events(): Promise<EventReadResult>;
}

export interface CheckContext {
  hosting: Hosting;
  settings: VerificationSettings;
  snap: Snapshot;
  /** Base URLs, for evidence. */
  apiUrl: string;
  now: Date;
}

export interface StepCheck {
  stepId: string;
  /** Resources the check reads for a hosting, so the runner can fetch them all in parallel first. */
  needs(hosting: Hosting): Resource[];
  run(ctx: CheckContext): Promise<CheckOutcome>;
}
