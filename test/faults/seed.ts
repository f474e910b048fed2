import type { ConversationRef } from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import { openStore } from '../../src/store';
import { loadTemplate } from '../../src/templates';
import { TestClock } from '../helpers/clock';
import { FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS } from '../helpers/slack-requests';

/** The rollout of the fake Slack channel, as the fault tests' child processes key it. */
export const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;

/**
 * Writes into the store at `storeUrl` a rollout created yesterday whose digest (UTC, every day) was due a
 * minute ago, with the digest switched on or off (`enabled`). Returns the slot key (`YYYY-MM-DDTHH:mm`).
 */
export async function seedDueDigest(
  storeUrl: string,
  opts: { enabled: boolean; /** Default the fake Slack channel (ROLLOUT). */ conversation?: ConversationRef; admin?: string },
): Promise<string> {
  const store = await openStore(storeUrl);
  const now = new Date();
  const service = new ChecklistService({
    store: store.rollouts,
    template: loadTemplate(),
    clock: new TestClock(new Date(now.getTime() - 86_400_000)),
    defaults: { locale: 'en', hosting: 'cloud-us', timezone: 'UTC', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5, 6, 7] },
    globalAdmins: [],
  });
  const conversation = opts.conversation ?? { platform: 'slack', workspace: FAKE_TEAM_ID, channel: FAKE_CHANNEL_ID };
  const rollout = await service.ensureRollout(conversation, {
    user: opts.admin ?? `slack:${FAKE_USERS.alice}`,
    surface: conversation.platform === 'teams' ? 'teams' : 'slack',
  });
  const due = new Date(now.getTime() - 60_000);
  const hhmm = due.toISOString().slice(11, 16);
  await store.rollouts.update(rollout.id, (r) => {
    r.settings = { ...r.settings, timezone: 'UTC', digestTime: hhmm, weekdays: [1, 2, 3, 4, 5, 6, 7], digestEnabled: opts.enabled };
    return { rollout: r, audit: [] };
  });
  await store.close();
  return `${due.toISOString().slice(0, 10)}T${hhmm}`;
}
