import { randomUUID } from 'node:crypto';
import type { App, webApi } from '@slack/bolt';
import { homeView } from '../blocks/home';
import { getProfile } from '../context';
import type { SlackDeps } from '../app';

/** Publishes the user's App Home: their steps across rollouts, and the rollouts they take part in. */
export async function publishHome(deps: SlackDeps, client: webApi.WebClient, userId: string, teamId: string): Promise<void> {
  const profile = await getProfile(client, deps.kv, userId, deps.installation);
  const view = await deps.interactions.home(`slack:${userId}`, { platform: 'slack', workspace: teamId }, profile.locale);
  await client.views.publish({ user_id: userId, view: homeView(view) });
}

export function registerEvents(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event, body, client }) => {
    if (event.tab !== 'home') return;
    // Slack redelivers events it thinks were not acknowledged in time; publish once per event.
    const eventId = (body as { event_id?: string }).event_id;
    // A fresh holder per delivery: leases are re-entrant for the same holder, so the event id cannot be it.
    if (eventId && !(await deps.leases.acquire(`slack:event:${eventId}`, randomUUID(), 60 * 60 * 1000))) return;
    const teamId = (body as { team_id?: string }).team_id ?? '';
    try {
      await publishHome(deps, client, event.user, teamId);
    } catch (err) {
      deps.logger.warn({ err, user: event.user }, 'could not publish the App Home');
    }
  });
}
