import { createHash } from 'node:crypto';
import { type BitwardenEndpoints, bitwardenEndpoints, type Config } from '../config/load';
import { type BwprepError, isBwprepError } from '../core/errors';
import type { Clock, KeyValueStore } from '../core/ports';
import type { BitwardenVerifier, CheckOutcome, OrgCredentials, VerificationRequest, VerificationSettings } from '../core/verification/ports';
import { PER_ID_READ_LIMIT, RequestBudget } from './budget';
import { type AccessData, checkFor, type CheckContext, type Resource, type Snapshot } from './checks';
import { BitwardenClient, type BitwardenClientOptions, type SubscriptionProbe } from './client';
import { EndpointError, isEndpointError, isRunLevel, serverMessageOf } from './errors';
import type { EventReadResult } from './events';
import type { Collection, Group, Member, Policy, ServerConfig } from './schemas';

/** The endpoint each resource reads, as evidence names it. */
const RESOURCE_ENDPOINTS: Record<Resource, string> = {
  token: 'POST /connect/token',
  config: 'GET /config',
  members: 'GET /public/members',
  groups: 'GET /public/groups',
  collections: 'GET /public/collections',
  access: 'GET /public/groups/{id}, GET /public/collections/{id}',
  policies: 'GET /public/policies',
  subscription: 'GET /public/organization/subscription',
  events: 'GET /public/events',
};

/**
 * One run's view of the organization: every endpoint fetched at most once, lazily, shared by all checks,
 * every request taken from the run's budget. A failing endpoint rejects with an EndpointError (naming the
 * endpoint and the reason) unless the failure stops the whole run (isRunLevel).
 */
class RunSnapshot implements Snapshot {
  private readonly memo = new Map<Resource, Promise<unknown>>();
  readonly budget = new RequestBudget();
  constructor(
    private readonly client: BitwardenClient,
    private readonly kv: KeyValueStore,
  ) {}

  private once<T>(r: Resource, load: () => Promise<T>): Promise<T> {
    let p = this.memo.get(r) as Promise<T> | undefined;
    if (!p) {
      p = load().catch((e: unknown) => {
        if (r === 'token' || isRunLevel(e) || !isBwprepError(e) || isEndpointError(e)) throw e;
        throw new EndpointError(RESOURCE_ENDPOINTS[r], e);
      });
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
      case 'access':
        return this.access();
      case 'policies':
        return this.policies();
      case 'subscription':
        return this.subscription();
      case 'events':
        return this.events();
    }
  }

  /**
   * Sizes the budget from the member, group and collection counts among `needs`, once they have arrived
   * (a failed list counts as unknown).
   */
  async sizeBudget(needs: Set<Resource>): Promise<void> {
    const get = async (r: 'members' | 'groups' | 'collections'): Promise<number | undefined> => {
      if (!needs.has(r)) return 0;
      try {
        return ((await this.load(r)) as unknown[]).length;
      } catch {
        return undefined;
      }
    };
    const [members, groups, collections] = await Promise.all([get('members'), get('groups'), get('collections')]);
    if (needs.has('events') && members === undefined) this.budget.setSize(undefined);
    else this.budget.setSize({ members: members ?? 0, groups: groups ?? 0, collections: collections ?? 0 });
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
    return this.once('members', () => this.client.listMembers(this.budget));
  }
  groups(): Promise<Group[]> {
    return this.once('groups', () => this.client.listGroups(this.budget));
  }
  collections(): Promise<Collection[]> {
    return this.once('collections', () => this.client.listCollections(this.budget));
  }
  policies(): Promise<Policy[]> {
    return this.once('policies', () => this.client.listPolicies(this.budget));
  }
  subscription(): Promise<SubscriptionProbe> {
    return this.once('subscription', () => this.client.probeSubscription(this.budget));
  }
  events(): Promise<EventReadResult> {
    return this.once('events', () => this.client.readEventsSince(this.kv, this.client.orgKey, { budget: this.budget }));
  }

  /**
   * Group ↔ collection associations, complete from at least one side. When both lists leave them out
   * (`collections: null` on groups, `groups: null` on collections: servers from before 2022), the side with
   * fewer items is read per id (`GET /public/collections/{id}` on a tie), up to PER_ID_READ_LIMIT requests;
   * past that, or when the per-id answers leave them out too, `complete` is false with the reason.
   */
  access(): Promise<AccessData> {
    return this.once('access', async () => {
      const [groups, collections] = await Promise.all([this.groups(), this.collections()]);
      const groupsKnown = groups.every((g) => g.accessAll || g.collections !== null);
      const collectionsKnown = collections.every((c) => c.groups !== null);
      if (groupsKnown || collectionsKnown) return { groups, collections, complete: true, source: 'lists', perIdReads: 0 };
      const missingGroups = groups.filter((g) => !g.accessAll && g.collections === null);
      const missingCollections = collections.filter((c) => c.groups === null);
      const byGroup = missingGroups.length < missingCollections.length;
      const count = byGroup ? missingGroups.length : missingCollections.length;
      const source = byGroup ? 'per-id groups' : 'per-id collections';
      if (count > PER_ID_READ_LIMIT) return { groups, collections, complete: false, source, perIdReads: 0, reason: 'too_many', missing: count };
      if (byGroup) {
        const read = await Promise.all(missingGroups.map((g) => this.client.getGroup(g.id, this.budget)));
        const byId = new Map(read.filter((g): g is Group => g !== null).map((g) => [g.id, g]));
        const asked = new Set(missingGroups.map((g) => g.id));
        // A group deleted between the list and its read (404) is left out.
        const filled = groups.filter((g) => !asked.has(g.id) || byId.has(g.id)).map((g) => byId.get(g.id) ?? g);
        const stillMissing = filled.filter((g) => !g.accessAll && g.collections === null).length;
        return {
          groups: filled,
          collections,
          complete: stillMissing === 0,
          source,
          perIdReads: count,
          ...(stillMissing ? { reason: 'not_sent' as const, missing: stillMissing } : {}),
        };
      }
      const read = await Promise.all(missingCollections.map((c) => this.client.getCollection(c.id, this.budget)));
      const byId = new Map(read.filter((c): c is Collection => c !== null).map((c) => [c.id, c]));
      // A collection deleted between the list and its read (404) is left out.
      const filled = collections.filter((c) => c.groups !== null || byId.has(c.id)).map((c) => byId.get(c.id) ?? c);
      const stillMissing = filled.filter((c) => c.groups === null).length;
      return {
        groups,
        collections: filled,
        complete: stillMissing === 0,
        source,
        perIdReads: count,
        ...(stillMissing ? { reason: 'not_sent' as const, missing: stillMissing } : {}),
      };
    });
  }
}

/**
 * Endpoints for a rollout from the environment config: a rollout on the environment's own hosting (and
 * server URL) gets the configured endpoints, BW_API_URL / BW_IDENTITY_URL overrides included; any other
 * hosting gets the standard URLs for it.
 */
export function endpointsFromConfig(
  bw: Pick<Config['bitwarden'], 'hosting' | 'apiUrl' | 'identityUrl' | 'serverUrl'>,
): (settings: VerificationSettings) => BitwardenEndpoints {
  const norm = (u?: string) => u?.replace(/\/+$/, '') || undefined;
  return (s) => {
    if (s.hosting === bw.hosting && norm(s.serverUrl) === norm(bw.serverUrl)) {
      return { hosting: bw.hosting, apiUrl: bw.apiUrl, identityUrl: bw.identityUrl, ...(bw.serverUrl ? { serverUrl: bw.serverUrl } : {}) };
    }
    return bitwardenEndpoints(s.hosting, s.serverUrl);
  };
}

/** The verifier as the composition root builds it from the config (the kv holds event high-water marks). */
export function createBitwardenVerifier(
  config: Pick<Config, 'bitwarden'>,
  deps: Omit<BitwardenVerificationDeps, 'endpoints' | 'caFile'>,
): BitwardenVerification {
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
    // token request go out together. Only what stops every step ends the run here (isRunLevel); from now
    // on a failing endpoint marks only the steps that need it `error`.
    const [cfg, tok] = await Promise.allSettled([snap.config(), snap.token()]);
    if (cfg.status === 'rejected' && isRunLevel(cfg.reason)) throw cfg.reason;
    if (tok.status === 'rejected') throw tok.reason;

    const checks = req.stepIds.map((id) => ({ id, check: checkFor(id) }));
    const needs = new Set<Resource>();
    for (const { check } of checks) for (const r of check?.needs(hosting) ?? []) needs.add(r);
    // The event pages' budget depends on the member count.
    if (needs.has('events')) needs.add('members');
    if (needs.has('access')) {
      needs.add('groups');
      needs.add('collections');
    }
    // Every needed endpoint at once (bounded by the client's per-organization semaphore).
    const sizing = snap.sizeBudget(needs);
    const loads = await Promise.allSettled([...needs].filter((r) => r !== 'config').map((r) => snap.load(r)));
    await sizing;
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
        out[id] = this.errorOutcome(id, e, ctx.now);
      }
    }
    this.deps.logger?.info(
      {
        rollout: req.rolloutId,
        steps: req.stepIds.length,
        ms: Date.now() - started,
        requests: snap.budget.used,
        budget: snap.budget.max,
        statuses: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.status])),
      },
      'bitwarden verification done',
    );
    return out;
  }

  /** `error` for a step whose data did not come: the endpoint and the reason as summary and evidence. */
  private errorOutcome(step: string, e: unknown, now: Date): CheckOutcome {
    const at = now.toISOString();
    if (isEndpointError(e)) {
      const serverMessage = serverMessageOf(e.reason);
      return {
        status: 'error',
        summary: e.userMessage,
        evidence: {
          at,
          endpoint: e.endpoint,
          detail: { error: e.code, endpoint: e.endpoint, reason: e.reason.message, ...(serverMessage ? { serverMessage } : {}) },
        },
      };
    }
    if (isBwprepError(e)) {
      return { status: 'error', summary: (e as BwprepError).userMessage, evidence: { at, detail: { error: e.code, reason: e.message } } };
    }
    this.deps.logger?.error({ step, err: e instanceof Error ? e.message : String(e) }, 'check crashed');
    return { status: 'error', summary: { key: 'check.crashed', vars: { step } }, evidence: { at, detail: { error: 'internal' } } };
  }

  /** Closes every client's connections; `force` as in `BitwardenClient.close`. */
  async close(opts: { force?: boolean } = {}): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close(opts)));
    this.clients.clear();
  }
}
