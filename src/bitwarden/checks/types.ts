import type { Evidence, Hosting } from '../../core/checklist/model';
import type { CheckOutcome, VerificationSettings } from '../../core/verification/ports';
import type { SubscriptionProbe } from '../client';
import type { EventReadResult } from '../events';
import type { Collection, Group, Member, Policy, ServerConfig } from '../schemas';

export type { CheckOutcome };

/** The data a check may read; every resource is fetched at most once per run. */
export type Resource = 'token' | 'config' | 'members' | 'groups' | 'collections' | 'policies' | 'subscription' | 'events';

export interface Snapshot {
  token(): Promise<void>;
  config(): Promise<ServerConfig>;
  members(): Promise<Member[]>;
  groups(): Promise<Group[]>;
  collections(): Promise<Collection[]>;
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

export type { Evidence };
