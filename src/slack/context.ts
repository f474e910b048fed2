import type { webApi } from '@slack/bolt';
import type { Actor, Locale, UserKey } from '../core/checklist/model';
import type { KeyValueStore } from '../core/ports';
import { toLocale } from '../i18n';
import { adminRightsCount, type SlackInstallation } from './installation';

type WebClient = webApi.WebClient;

export interface SlackProfile {
  id: string;
  /** Supported locale from the user's Slack language, if any. */
  locale?: Locale;
  /** IANA time zone from the Slack profile. */
  tz?: string;
  /** Workspace admin or owner: vouched admin rights. */
  isAdmin: boolean;
  name?: string;
  exists: boolean;
  /** A deactivated account (users.info `deleted: true`). */
  deleted?: boolean;
  /** The person's own workspace (differs from the installing one for Slack Connect guests). */
  teamId?: string;
  /** Of another organization than the installing workspace's (Slack Connect), as far as Slack says. */
  external?: boolean;
}

/** The installation, or undefined when auth.test cannot be reached (then no admin rights are vouched). */
async function installationOrNone(installation: (() => Promise<SlackInstallation | undefined>) | undefined): Promise<SlackInstallation | undefined> {
  try {
    return await installation?.();
  } catch {
    return undefined;
  }
}

const PROFILE_TTL_MS = 60 * 60 * 1000;

/**
 * Profiles this process read from or wrote to the kv store, per kv store (so two apps in one process never
 * share one), kept a minute: a click reads its clicker's profile, and the kv read (keyv, its JSON) cost more
 * than the rest of the lookup (issue 12, bench/README.md "After the application layer, round 2"). A minute
 * on top of the kv's hour: a change of language or admin rights shows up as before, at most a minute later.
 */
const recent = new WeakMap<KeyValueStore, Map<string, { profile: SlackProfile; until: number }>>();
const RECENT_TTL_MS = 60_000;
const RECENT_MAX = 5_000;

function remember(kv: KeyValueStore, key: string, profile: SlackProfile): void {
  let m = recent.get(kv);
  if (!m) recent.set(kv, (m = new Map()));
  if (m.size >= RECENT_MAX) m.clear();
  m.set(key, { profile, until: Date.now() + RECENT_TTL_MS });
}

/**
 * users.info with include_locale, cached per user in the kv store for an hour. Slack user ids are unique
 * across workspaces, so one cache entry serves commands, clicks and the scheduler. Workspace admin rights
 * count only for people of the installing workspace or its Grid organization (`installation`, from
 * auth.test; see installation.ts): a Slack Connect guest's own `is_admin` means nothing here.
 */
export async function getProfile(
  client: WebClient,
  kv: KeyValueStore,
  userId: string,
  installation?: () => Promise<SlackInstallation | undefined>,
): Promise<SlackProfile> {
  // v3: admin rights depend on the installing team (v2), and the profile says whether the person is external.
  const key = `slack:profile:v3:${userId}`;
  const hit = recent.get(kv)?.get(key);
  if (hit && hit.until > Date.now()) return hit.profile;
  const cached = await kv.get<SlackProfile>(key);
  if (cached) {
    remember(kv, key, cached);
    return cached;
  }
  let profile: SlackProfile;
  let uncached = false;
  try {
    const res = await client.users.info({ user: userId, include_locale: true });
    const u = res.user as
      | {
          locale?: string;
          tz?: string;
          is_admin?: boolean;
          is_owner?: boolean;
          real_name?: string;
          name?: string;
          deleted?: boolean;
          team_id?: string;
          enterprise_user?: { enterprise_id?: string };
          profile?: { display_name?: string };
        }
      | undefined;
    const claimsAdmin = Boolean(u?.is_admin || u?.is_owner);
    // The installation (auth.test, cached) tells our organization from a Slack Connect partner's.
    const inst = installation ? await installationOrNone(installation) : undefined;
    // Without the installation nothing is vouched, and nothing cached: the next request asks again.
    if (installation && !inst) uncached = true;
    const vouched = claimsAdmin && adminRightsCount(u ?? {}, inst);
    // External only when Slack says so for sure: a known team of another organization.
    const external = Boolean(inst?.teamId && u?.team_id && !adminRightsCount(u, inst));
    const locale = toLocale(u?.locale);
    profile = {
      id: userId,
      ...(locale ? { locale } : {}),
      ...(u?.tz ? { tz: u.tz } : {}),
      isAdmin: vouched,
      ...(u?.team_id ? { teamId: u.team_id } : {}),
      ...(external ? { external: true } : {}),
      ...(u?.profile?.display_name || u?.real_name || u?.name ? { name: u?.profile?.display_name || u?.real_name || u?.name } : {}),
      exists: Boolean(u) && !u?.deleted,
      ...(u?.deleted ? { deleted: true } : {}),
    };
  } catch (e) {
    const code = (e as { data?: { error?: string } }).data?.error;
    if (code === 'user_not_found') return { id: userId, isAdmin: false, exists: false };
    throw e;
  }
  if (!uncached) {
    await kv.set(key, profile, PROFILE_TTL_MS);
    remember(kv, key, profile);
  }
  return profile;
}

export function slackActor(userId: string, profile: SlackProfile | undefined): Actor {
  return {
    user: `slack:${userId}`,
    surface: 'slack',
    ...(profile?.name ? { name: profile.name } : {}),
    ...(profile?.isAdmin ? { platformAdmin: true } : {}),
    ...(profile?.external ? { external: true } : {}),
  };
}

/**
 * Slack mention tokens: `<@U0123ABC|name>` or `<@U0123ABC>` (also W… enterprise ids), and the stored form
 * `<@slack:U0123ABC>` that src/slack/text.ts makes of them on the way in.
 */
export function resolveSlackMention(token: string): UserKey | undefined {
  const m = /^<@(?:slack:)?([UW][A-Z0-9]+)(\|[^>]*)?>$/.exec(token.trim());
  return m ? `slack:${m[1]}` : undefined;
}
