import { createHash } from 'node:crypto';
import { type BitwardenEndpoints, bitwardenEndpoints, type Config } from '../config/load';
import { isBwprepError } from '../core/errors';
import type { Clock, KeyValueStore } from '../core/ports';
import type { BitwardenVerifier, CheckOutcome, OrgCredentials, VerificationRequest, VerificationSettings } from '../core/verification/ports';
import { checkFor, type CheckContext, type Resource, type Snapshot } from './checks';
import { BitwardenClient, type BitwardenClientOptions, type SubscriptionProbe } from './client';
import { isRunLevel } from './errors';
import type { EventReadResult } from './events';
import type { Collection, Group, Member, Policy, ServerConfig } from './schemas';

/**
 * One run's view of the organization: every endpoint fetched at most once, lazily, shared by all checks.
 */
export class RunSnapshot implements Snapshot {
  private readonly memo = new Map<Resource, Promise<unknown>>();
  constructor(
    private readonly client: BitwardenClient,
    private readonly kv: KeyValueStore,
  ) {}

  private once<T>(r: Resource, load: () => Promise<T>): Promise<T> {
    let p = this.memo.get(r) as Promise<T> | undefined;
    if (!p) {
      p = load();
      // A rejection is observed by whichever check awaits it; avoid unhandled-rejection noise meanwhile.
      p.catch(() => undefined);
      this.memo.set(r, p);
    }
    return p;
  }

  load(r: Resource): Promise<unknown> {
    switch (r) {
      case 'token':
        return this.token();
      case 'config':
        return this.config();
      case 'members':
        return this.members();
      case 'groups':
        return this.groups();
      case 'collections':
        return this.collections();
      case 'policies':
        return this.policies();
      case 'subscription':
        return this.subscription();
      case 'events':
        return this.events();
    }
  }

  token(): Promise<void> {
    return this.once('token', async () => {
      await this.client.token();
    });
  }
  config(): Promise<ServerConfig> {
    return this.once('config', () => this.client.getConfig());
  }
  members(): Promise<Member[]> {
    return this.once('members', () => this.client.listMembers());
  }
  groups(): Promise<Group[]> {
    return this.once('groups', () => this.client.listGroups());
  }
  collections(): Promise<Collection[]> {
    return this.once('collections', () => this.client.listCollections());
  }
  policies(): Promise<Policy[]> {
    return this.once('policies', () => this.client.listPolicies());
  }
  subscription(): Promise<SubscriptionProbe> {
    return this.once('subscription', () => this.client.probeSubscription());
  }
  events(): Promise<EventReadResult> {
    return this.once('events', () => this.client.readEventsSince(this.kv, this.client.orgKey));
  }
}

/**
 * Endpoints for a rollout from the environment config: a rollout on the environment's own hosting (and
 * server URL) gets the configured endpoints, BW_API_URL / BW_IDENTITY_URL overrides included; any other
 * hosting gets the standard URLs for it.
 */
export function endpointsFromConfig(bw: Pick<Config['bitwarden'], 'hosting' | 'apiUrl' | 'identityUrl' | 'serverUrl'>): (settings: VerificationSettings) => BitwardenEndpoints {
  const norm = (u?: string) => u?.replace(/\/+$/, '') || undefined;
  return (s) => {
    if (s.hosting === bw.hosting && norm(s.serverUrl) === norm(bw.serverUrl)) {
      return { hosting: bw.hosting, apiUrl: bw.apiUrl, identityUrl: bw.identityUrl, ...(bw.serverUrl ? { serverUrl: bw.serverUrl } : {}) };
    }
    return bitwardenEndpoints(s.hosting, s.serverUrl);
  };
}

/** The verifier as the composition root builds it from the config (the kv holds event high-water marks). */
export function createBitwardenVerifier(config: Pick<Config, 'bitwarden'>, deps: Omit<BitwardenVerificationDeps, 'endpoints' | 'caFile'>): BitwardenVerification {
  return new BitwardenVerification({
    ...deps,
    endpoints: endpointsFromConfig(config.bitwarden),
    ...(config.bitwarden.caFile ? { caFile: config.bitwarden.caFile } : {}),
  });
}

/** How each organization's client is tuned (CA bundle, timeouts, retries, concurrency…): the client's own options. */
export type ClientTuning = Omit<BitwardenClientOptions, 'endpoints' | 'clientId' | 'clientSecret'>;

export interface BitwardenVerificationDeps extends ClientTuning {
  /** Holds the event high-water marks and login maps per organization. */
  kv: KeyValueStore;
  /** Base URLs for a rollout's hosting; default `bitwardenEndpoints(hosting, serverUrl)`. */
  endpoints?: (settings: VerificationSettings) => BitwardenEndpoints;
}

/**
 * The BitwardenVerifier port over the Public API: one cached client per organization key (so tokens are
 * reused across runs), a fresh snapshot per run, every needed endpoint requested in parallel up front.
 */
export class BitwardenVerification implements BitwardenVerifier {
  private readonly clients = new Map<string, BitwardenClient>();
  private readonly clock: Clock;

  constructor(private readonly deps: BitwardenVerificationDeps) {
    this.clock = deps.clock ?? { now: () => new Date() };
  }

  /** The client for an organization key at some endpoints; created once and reused. */
  clientFor(endpoints: BitwardenEndpoints, credentials: OrgCredentials): BitwardenClient {
    const secretHash = createHash('sha256').update(credentials.clientSecret).digest('hex').slice(0, 16);
    const key = [endpoints.apiUrl, endpoints.identityUrl, credentials.clientId, secretHash].join('|');
    let c = this.clients.get(key);
    if (!c) {
      const { kv: _kv, endpoints: _endpoints, ...tuning } = this.deps;
      c = new BitwardenClient({ ...tuning, endpoints, clientId: credentials.clientId, clientSecret: credentials.clientSecret, clock: this.clock });
      this.clients.set(key, c);
    }
    return c;
  }

  async verify(req: VerificationRequest): Promise<Record<string, CheckOutcome>> {
    const endpoints = this.deps.endpoints ? this.deps.endpoints(req.settings) : bitwardenEndpoints(req.settings.hosting, req.settings.serverUrl);
    const client = this.clientFor(endpoints, req.credentials);
    const snap = new RunSnapshot(client, this.deps.kv);
    const hosting = req.settings.hosting;
    const started = Date.now();

    // Vaultwarden has no Public API: say so before anything else fails obscurely. The config probe and the
    // token request go out together.
    const [cfg, tok] = await Promise.allSettled([snap.config(), snap.token()]);
    if (cfg.status === 'rejected' && isBwprepError(cfg.reason) && cfg.reason.code === 'bitwarden_not_supported' && cfg.reason.userMessage.key === 'bw.error.vaultwarden') {
      throw cfg.reason;
    }
    if (tok.status === 'rejected') throw tok.reason;

    const checks = req.stepIds.map((id) => ({ id, check: checkFor(id) }));
    const needs = new Set<Resource>();
    for (const { check } of checks) for (const r of check?.needs(hosting) ?? []) needs.add(r);
    // Every needed endpoint at once (bounded by the client's per-organization semaphore).
    const loads = await Promise.allSettled([...needs].filter((r) => r !== 'config').map((r) => snap.load(r)));
    for (const l of loads) if (l.status === 'rejected' && isRunLevel(l.reason)) throw l.reason;

    const ctx: CheckContext = { hosting, settings: req.settings, snap, apiUrl: endpoints.apiUrl, now: this.clock.now() };
    const out: Record<string, CheckOutcome> = {};
    for (const { id, check } of checks) {
      if (!check) {
        out[id] = { status: 'manual', summary: { key: 'check.no_check', vars: { step: id } }, evidence: { at: ctx.now.toISOString() } };
        continue;
      }
      try {
        out[id] = await check.run(ctx);
      } catch (e) {
        if (isRunLevel(e)) throw e;
        if (isBwprepError(e)) {
          out[id] = { status: 'error', summary: e.userMessage, evidence: { at: ctx.now.toISOString(), detail: { error: e.code } } };
        } else {
          this.deps.logger?.error({ step: id, err: e instanceof Error ? e.message : String(e) }, 'check crashed');
          out[id] = { status: 'error', summary: { key: 'check.crashed', vars: { step: id } }, evidence: { at: ctx.now.toISOString(), detail: { error: 'internal' } } };
        }
      }
    }
    this.deps.logger?.info(
      { rollout: req.rolloutId, steps: req.stepIds.length, ms: Date.now() - started, statuses: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.status])) },
      'bitwarden verification done',
    );
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
