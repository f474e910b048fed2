import { createVerification } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import type { Actor, ConversationRef, Locale, MessageRef, UserKey } from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import { kvCheckHistory, type Store } from '../../src/core/ports';
import type { PostedDigest } from '../../src/core/digest/ports';
import { CardGoneError, Interactions, Platforms } from '../../src/interactions';
import type { ChatPlatform, DirectMessage, PlatformId, Reply, Requester, UserProfile } from '../../src/interactions/ports';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logging/logger';
import { createMetrics, type Metrics } from '../../src/metrics';
import { openStore } from '../../src/store';
import type { CheckReportView } from '../../src/views/check-report';
import type { ChecklistView } from '../../src/views/checklist';
import type { DigestView } from '../../src/views/digest';
import { plainText } from '../../src/views/rich';
import type { FakeBitwardenServer } from '../fakes/bitwarden-server';
import { FAKE_SECRET } from '../fixtures/bitwarden';
import { TEMPLATE } from '../core/harness';
import { TestClock } from '../helpers/clock';

/**
 * The application layer (src/interactions) tested directly: the real ChecklistService on the real SQLite
 * store (`sqlite://:memory:`), real verification against the fake Bitwarden server (HTTP), and an
 * in-memory ChatPlatform that records what a platform was asked to show. No platform adapter involved.
 */

/** An in-memory chat platform: records card posts/updates/retirements, channel posts and DMs. */
export class FakePlatform implements ChatPlatform {
  readonly posts: { conversation: ConversationRef; view: ChecklistView; ref: MessageRef }[] = [];
  readonly updates: { ref: MessageRef; view: ChecklistView; checking: boolean }[] = [];
  readonly retired: { ref: MessageRef; locale: Locale }[] = [];
  readonly digests: { conversation: ConversationRef; view: DigestView }[] = [];
  readonly reports: { conversation: ConversationRef; view: CheckReportView }[] = [];
  readonly dms: { user: UserKey; message: DirectMessage }[] = [];
  /** People this platform knows; anyone else is unknown. */
  readonly people = new Map<UserKey, Omit<UserProfile, 'user' | 'exists' | 'platformAdmin'> & { exists?: boolean; platformAdmin?: boolean }>();
  /** Set to make the next card updates fail the way a platform does. */
  updateFails: 'gone' | 'refused' | undefined;
  private seq = 0;

  constructor(readonly id: PlatformId = 'teams') {}

  readonly directory = {
    profile: async (user: UserKey): Promise<UserProfile> => {
      const p = this.people.get(user);
      if (!p) return { user, exists: false, missing: 'unknown', platformAdmin: false };
      return { platformAdmin: false, exists: true, ...p, user };
    },
  };

  readonly cards = {
    post: async (conversation: ConversationRef, view: ChecklistView): Promise<MessageRef> => {
      const ref: MessageRef = { platform: this.id, channel: conversation.channel, ts: String(++this.seq) };
      this.posts.push({ conversation, view, ref });
      return ref;
    },
    update: async (ref: MessageRef, view: ChecklistView, opts: { checking?: boolean } = {}): Promise<void> => {
      if (this.updateFails === 'gone') throw new CardGoneError('message_not_found');
      if (this.updateFails === 'refused') throw new Error('platform outage');
      this.updates.push({ ref, view, checking: Boolean(opts.checking) });
    },
    retire: async (ref: MessageRef, locale: Locale): Promise<void> => {
      this.retired.push({ ref, locale });
    },
  };

  readonly publisher = {
    postDigest: async (conversation: ConversationRef, view: DigestView): Promise<PostedDigest> => {
      this.digests.push({ conversation, view });
      return { ref: { platform: this.id, channel: conversation.channel, ts: String(++this.seq) } };
    },
    postCheckReport: async (conversation: ConversationRef, view: CheckReportView): Promise<void> => {
      this.reports.push({ conversation, view });
    },
  };

  readonly notifier = {
    send: async (user: UserKey, message: DirectMessage): Promise<boolean> => {
      if (!this.people.has(user)) return false;
      this.dms.push({ user, message });
      return true;
    },
  };
}

/** A person making requests: records every reply. */
export interface FakeRequester extends Requester {
  replies: Reply[];
  /** The replies as plain text, one string each. */
  texts(): string[];
}

function replyText(r: Reply): string {
  switch (r.kind) {
    case 'notice':
      return r.lines.map((l) => plainText(l)).join('\n');
    case 'help':
      return [r.view.title, ...r.view.lines.map((l) => plainText(l))].join('\n');
    case 'mine':
      return [r.view.title, r.view.empty ?? '', ...r.view.lines.map((l) => plainText(l.text))].join('\n');
    case 'check_report':
      return [r.view.title, ...r.view.lines.map((l) => `${l.step} ${l.title}: ${plainText(l.summary)}`)].join('\n');
    case 'setup':
      return `setup form (${r.form.locale})`;
    case 'file':
      return `${r.file.filename}: ${r.file.comment}`;
  }
}

const WORKSPACE = 'tenant-1';
export const CONVERSATION: ConversationRef = { platform: 'teams', workspace: WORKSPACE, channel: '19:rollout', name: 'bitwarden-rollout' };
export const ADA = 'teams:ada';
export const BRAM = 'teams:bram';

export interface LayerHarness {
  store: Store;
  service: ChecklistService;
  interactions: Interactions;
  platform: FakePlatform;
  /** Every platform the layer serves (the fake Teams one first). */
  platforms: Platforms;
  /** Serves one more fake platform (e.g. `slack`, to link a rollout across platforms). */
  addPlatform(id: PlatformId): FakePlatform;
  clock: TestClock;
  /** The layer's Prometheus counters (what `/metrics` serves). */
  metrics: Metrics;
  /** Every log line the layer wrote at info and above, parsed (pino JSON); with `msg`, those with that message. */
  logs(msg?: string): LogLine[];
  /**
   * A requester on the fake platform of their key's prefix (`teams:` unless another was added); `locale` is
   * the person's own language where the platform tells it; `workspace` defaults to the conversation's.
   */
  person(user: UserKey, opts?: { locale?: Locale; admin?: boolean; workspace?: string }): FakeRequester;
  close(): Promise<void>;
}

/** One pino log line: `level` as a label, `msg`, and the bound fields (`err` serialized). */
export type LogLine = { level: 'info' | 'warn' | 'error' | 'fatal'; msg?: string; err?: { message: string; type: string } } & Record<string, unknown>;

/**
 * Builds the layer on a fresh in-memory SQLite store. With `bw`, checks run against that fake Bitwarden
 * server with its organization key. The rollout defaults are English. `globalAdmins`: BWPREP_ADMINS (none by default).
 */
export async function layer(
  opts: {
    bw?: FakeBitwardenServer;
    locale?: Locale;
    encryptionKey?: string;
    globalAdmins?: UserKey[];
    cardUpdateIntervalMs?: number;
    verification?: false;
  } = {},
): Promise<LayerHarness> {
  const clock = new TestClock('2026-11-25T09:00:00.000Z');
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  const metrics = createMetrics({ processMetrics: false });
  const store = await openStore('sqlite://:memory:', { logger });
  const config = loadConfig({
    BWPREP_STORE_URL: 'sqlite://:memory:',
    BWPREP_LOCALE: opts.locale ?? 'en',
    BW_REGION: 'eu',
    ...(opts.bw ? { BW_API_URL: opts.bw.url, BW_IDENTITY_URL: `${opts.bw.url}/identity`, BW_CLIENT_ID: opts.bw.clientId, BW_CLIENT_SECRET: FAKE_SECRET } : {}),
    ...(opts.encryptionKey ? { BWPREP_ENCRYPTION_KEY: opts.encryptionKey } : {}),
  });
  const service = new ChecklistService({
    store: store.rollouts,
    template: TEMPLATE,
    clock,
    defaults: config.defaults,
    globalAdmins: opts.globalAdmins ?? [],
    checkHistory: kvCheckHistory(store.kv, clock),
  });
  const { verification, verifier } = createVerification(config, { store, service, clock, logger });
  const platform = new FakePlatform('teams');
  const platforms = new Platforms().register(platform);
  const interactions = new Interactions({
    service,
    store,
    clock,
    platforms,
    logger,
    metrics,
    defaults: config.defaults,
    ...(opts.verification === false ? {} : { verification }),
    ...(config.encryptionKey ? { encryptionKey: config.encryptionKey } : {}),
    ...(opts.cardUpdateIntervalMs !== undefined ? { cardUpdateIntervalMs: opts.cardUpdateIntervalMs } : {}),
  });
  return {
    store,
    service,
    interactions,
    platform,
    platforms,
    addPlatform(id) {
      const p = new FakePlatform(id);
      platforms.register(p);
      return p;
    },
    clock,
    metrics,
    logs: (msg) => lines.map((l) => JSON.parse(l) as LogLine).filter((l) => msg === undefined || l.msg === msg),
    person(user, o = {}) {
      // The person's platform is their key's prefix (`teams:ada`, `slack:U1`); it must be served.
      const id = user.slice(0, user.indexOf(':')) as PlatformId;
      const home = platforms.get(id);
      if (!(home instanceof FakePlatform)) throw new Error(`no fake platform ${id}: addPlatform('${id}') first`);
      home.people.set(user, { ...(o.locale ? { locale: o.locale } : {}), platformAdmin: Boolean(o.admin) });
      const actor: Actor = { user, surface: id === 'cli' ? 'console' : id, ...(o.admin ? { platformAdmin: true } : {}) };
      const replies: Reply[] = [];
      return {
        actor,
        scope: { platform: id, workspace: o.workspace ?? WORKSPACE },
        ...(o.locale ? { locale: o.locale } : {}),
        replies,
        texts: () => replies.map(replyText),
        reply: async (r) => void replies.push(r),
      };
    },
    async close() {
      await verifier.close();
      await store.close();
    },
  };
}

/** Mentions on the fake platform are `@name` → `teams:name`. */
export const resolveUser = (token: string): UserKey | undefined => (/^@[a-z]+$/.test(token) ? `teams:${token.slice(1)}` : undefined);

/** The value of one labelled series of a Prometheus counter (exactly these labels), 0 when it was never incremented. */
export async function counter(
  metric: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> },
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get();
  return (
    values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x) && Object.keys(v.labels).length === Object.keys(labels).length)?.value ?? 0
  );
}

/** The store's server refusing the connection, as the pg and ioredis drivers raise it (the code on the cause). */
export function storeDown(): Error {
  return new Error('write failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' }) });
}

/** Holds calls until `open()`: `hold(fn)` is `fn` waiting for the gate (a platform call held mid-flight). */
export function gate(): { open: () => void; hold<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    open,
    hold:
      (fn) =>
      async (...args) => {
        await opened;
        return fn(...args);
      },
  };
}
