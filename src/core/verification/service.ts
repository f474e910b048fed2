import type { Actor, CheckRecord, Rollout } from '../checklist/model';
import type { ChecklistService } from '../checklist/service';
import { BwprepError } from '../errors';
import type { Clock } from '../ports';
import type { BitwardenVerifier, OrgCredentials } from './ports';

export interface VerificationServiceDeps {
  checklist: ChecklistService;
  verifier: BitwardenVerifier;
  clock: Clock;
  /**
   * Decrypts a rollout's own API key (settings.credentials), e.g. with decryptSecret from src/store/crypto.ts.
   * Returns undefined when the rollout has none.
   */
  resolveCredentials?: (rollout: Rollout) => Promise<OrgCredentials | undefined> | OrgCredentials | undefined;
  /** The environment default key (BW_CLIENT_ID / BW_CLIENT_SECRET). */
  defaultCredentials?: OrgCredentials;
}

export interface VerificationRun {
  results: { stepId: string; record: CheckRecord }[];
  transitions: { stepId: string; from: string; to: string }[];
  rollout: Rollout;
}

/**
 * Runs the Bitwarden checks of a rollout and records them through ChecklistService.recordChecks (DESIGN §2,
 * §5). One run per rollout at a time: a concurrent call joins the running one. When the run as a whole
 * fails (bad key, server unreachable) the BwprepError is thrown and no step state changes; a step whose
 * data did not come is recorded as `error`, which changes no state either (recordChecks).
 */
export class VerificationService {
  private readonly running = new Map<string, Promise<VerificationRun>>();

  constructor(private readonly deps: VerificationServiceDeps) {}

  /** True while a run for this rollout is in flight. */
  isRunning(rolloutId: string): boolean {
    return this.running.has(rolloutId);
  }

  run(rollout: Rollout, opts: { stepIds?: string[]; actor: Actor }): Promise<VerificationRun> {
    const current = this.running.get(rollout.id);
    if (current) return current;
    const p = this.execute(rollout, opts).finally(() => {
      if (this.running.get(rollout.id) === p) this.running.delete(rollout.id);
    });
    this.running.set(rollout.id, p);
    return p;
  }

  /** The credentials a run would use: the rollout's own key, else the environment default. */
  async credentialsFor(rollout: Rollout): Promise<OrgCredentials> {
    if (rollout.settings.credentials && this.deps.resolveCredentials) {
      const own = await this.deps.resolveCredentials(rollout);
      if (own) return own;
    }
    if (this.deps.defaultCredentials?.clientId && this.deps.defaultCredentials.clientSecret) return this.deps.defaultCredentials;
    throw new BwprepError('no_credentials', { key: 'bw.error.no_credentials' });
  }

  private async execute(rollout: Rollout, opts: { stepIds?: string[]; actor: Actor }): Promise<VerificationRun> {
    const template = this.deps.checklist.templateFor(rollout);
    const stepIds = opts.stepIds?.length ? [...new Set(opts.stepIds.map((id) => this.deps.checklist.step(id).id))] : template.steps.map((s) => s.id);
    const credentials = await this.credentialsFor(rollout);
    const s = rollout.settings;
    const outcomes = await this.deps.verifier.verify({
      rolloutId: rollout.id,
      settings: {
        hosting: s.hosting,
        ...(s.serverUrl ? { serverUrl: s.serverUrl } : {}),
        desiredPolicies: s.desiredPolicies,
        thresholds: s.thresholds,
      },
      credentials,
      stepIds,
    });
    const at = this.deps.clock.now().toISOString();
    const results = stepIds
      .filter((id) => outcomes[id])
      .map((stepId) => {
        const o = outcomes[stepId]!;
        return { stepId, record: { status: o.status, summary: o.summary, evidence: o.evidence, at } satisfies CheckRecord };
      });
    const recorded = await this.deps.checklist.recordChecks(rollout.id, results, opts.actor);
    return { results, transitions: recorded.transitions, rollout: recorded.rollout };
  }
}
