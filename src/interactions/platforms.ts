import type { ConversationRef, Locale, UserKey } from '../core/checklist/model';
import type { Rich } from '../views/rich';
import { BwprepError } from '../core/errors';
import type { ChatPlatform, PlatformId } from './ports';

/**
 * The chat platforms this process serves, looked up by a conversation's platform or a person's key prefix
 * (`slack:U…`, `teams:…`, `cli:…`). The scheduler and the flows route every post and DM through here, so a
 * Teams-only or Slack-only deployment works the same way as one with both.
 */
export class Platforms {
  private readonly byId = new Map<PlatformId, ChatPlatform>();

  register(p: ChatPlatform): this {
    this.byId.set(p.id, p);
    return this;
  }

  get(id: string): ChatPlatform | undefined {
    return this.byId.get(id as PlatformId);
  }

  /** The platform of a conversation; throws when this process does not serve it. */
  forConversation(c: Pick<ConversationRef, 'platform'>): ChatPlatform {
    const p = this.byId.get(c.platform);
    if (!p) throw new BwprepError('not_available', { key: 'error.platform_not_served', vars: { platform: c.platform } });
    return p;
  }

  /** The platform a person belongs to, by their key's prefix, if served here. */
  forUser(user: UserKey): ChatPlatform | undefined {
    const i = user.indexOf(':');
    return i > 0 ? this.byId.get(user.slice(0, i) as PlatformId) : undefined;
  }

  /**
   * A direct message to a person, in their own language where their platform tells it, else `fallback`.
   * Returns false when no served platform can reach them (nothing was sent); throws what the platform throws.
   */
  async notify(user: UserKey, fallback: Locale, lines: (locale: Locale) => Rich[]): Promise<boolean> {
    const platform = this.forUser(user);
    if (!platform?.notifier) return false;
    const profile = await platform.directory.profile(user);
    return platform.notifier.send(user, { kind: 'notice', lines: lines(profile.locale ?? fallback) });
  }

  /** True when at least one chat platform (not the console) is served. */
  get hasChat(): boolean {
    return [...this.byId.keys()].some((id) => id !== 'cli');
  }

  list(): ChatPlatform[] {
    return [...this.byId.values()];
  }
}
