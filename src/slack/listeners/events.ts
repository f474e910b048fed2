import { randomUUID } from 'node:crypto';
import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs, webApi } from '@slack/bolt';
import type { Actor } from '../../core/checklist/model';
import { homeView } from '../blocks/home';
import { getProfile } from '../context';
import type { SlackDeps } from '../app';
import { INSTALLATION_CODES } from '../errors';
import { slackRequester } from '../requester';
import { directCommand } from './direct';

/** Who clears or sets an unreachable mark when Slack tells us (audit trail). */
const SLACK_EVENTS: Actor = { user: 'system:bwprep', surface: 'slack' };

/** Publishes the user's App Home: their steps across rollouts, the rollouts they take part in, and (admins) what needs them. */
export async function publishHome(deps: SlackDeps, client: webApi.WebClient, userId: string, teamId: string): Promise<void> {
  const profile = await getProfile(client, deps.kv, userId, deps.installation);
  const view = await deps.interactions.home(`slack:${userId}`, { platform: 'slack', workspace: teamId }, profile.locale);
  await client.views.publish({ user_id: userId, view: homeView(view) });
}

/** Slack redelivers events it thinks were not acknowledged in time: true only for the first delivery. */
async function firstDelivery(deps: SlackDeps, body: unknown): Promise<boolean> {
  const eventId = (body as { event_id?: string }).event_id;
  // A fresh holder per delivery: leases are re-entrant for the same holder, so the event id cannot be it.
  return !eventId || deps.leases.acquire(`slack:event:${eventId}`, randomUUID(), 60 * 60 * 1000);
}

const teamOf = (body: unknown, event?: { team?: string }): string => event?.team ?? (body as { team_id?: string }).team_id ?? '';

type EventHandler = (args: SlackEventMiddlewareArgs & AllMiddlewareArgs) => Promise<void>;

/**
 * The events bwprep acts on, registered as ONE Bolt listener that dispatches on the event type: Bolt runs
 * every listener's middleware chain for every request (commands and clicks too), and with a listener per
 * event that was a measurable share of each request's CPU (issue 12, bench/README.md "After the
 * application layer, round 2").
 */
export function registerEvents(app: App, deps: SlackDeps): void {
  const handlers = new Map<string, EventHandler>();
  const on = <E extends string>(type: E, handler: (args: SlackEventMiddlewareArgs<E> & AllMiddlewareArgs) => Promise<void>): void => {
    handlers.set(type, handler as unknown as EventHandler);
  };

  on('app_home_opened', async ({ event, body, client }) => {
    if (event.tab !== 'home') return;
    if (!(await firstDelivery(deps, body))) return;
    try {
      await publishHome(deps, client, event.user, teamOf(body));
    } catch (err) {
      deps.logger.warn({ err, user: event.user }, 'could not publish the App Home');
    }
  });

  // ---- the bot can post again: clear the rollout's unreachable mark (scheduled digests resume) -----------

  on('member_joined_channel', async ({ event, body }) => {
    const installation = await deps.installation().catch((err: unknown) => {
      deps.logger.warn({ err, channel: event.channel }, 'member_joined_channel ignored: the installation could not be read');
      return undefined;
    });
    if (!installation?.botUserId || event.user !== installation.botUserId) return;
    const conversation = { platform: 'slack' as const, workspace: teamOf(body, event), channel: event.channel };
    if (await deps.interactions.conversationReachable(conversation, SLACK_EVENTS)) {
      deps.logger.info({ channel: event.channel }, 'bwprep was invited back; the rollout is reachable again');
    }
  });

  for (const name of ['channel_unarchive', 'group_unarchive'] as const) {
    on(name, async ({ event, body }) => {
      const conversation = { platform: 'slack' as const, workspace: teamOf(body), channel: event.channel };
      // Only an archive is undone by unarchiving; a bot that was removed must still be invited back.
      if (await deps.interactions.conversationReachable(conversation, SLACK_EVENTS, ['is_archived'])) {
        deps.logger.info({ channel: event.channel }, 'the channel was unarchived; the rollout is reachable again');
      }
    });
  }

  // ---- the installation is gone: no scheduled work for this workspace -----------------------------------

  on('app_uninstalled', async ({ body }) => {
    if (!(await firstDelivery(deps, body))) return;
    await installationGone(deps, teamOf(body), 'app_uninstalled');
  });

  on('tokens_revoked', async ({ event, body }) => {
    if (!(await firstDelivery(deps, body))) return;
    // Only the bot token matters to bwprep (it acts with no user tokens).
    if (!event.tokens.bot?.length) return;
    await installationGone(deps, teamOf(body), 'tokens_revoked');
  });

  // ---- the Messages tab ----------------------------------------------------------------------------

  on('message', async ({ event, body, client }) => {
    const m = event as { channel_type?: string; subtype?: string; bot_id?: string; user?: string; text?: string; channel: string; team?: string };
    // Only what a person types to the bot: no edits, joins, file shares or other subtypes, no bots (ourselves included).
    if (m.channel_type !== 'im' || m.subtype || m.bot_id || !m.user || typeof m.text !== 'string') return;
    if (!(await firstDelivery(deps, body))) return;
    const teamId = teamOf(body, m);
    const logger = deps.logger.child({ team: teamId, user: m.user, direct: true });
    const { requester } = await slackRequester(deps, { client, userId: m.user, teamId, logger });
    await directCommand(deps, requester, m.text, teamId);
  });

  const types = new RegExp(`^(?:${[...handlers.keys()].join('|')})$`);
  app.event(types, async (args) => {
    await handlers.get(args.event.type)?.(args);
  });
}

/** app_uninstalled / tokens_revoked: every rollout of the workspace is marked unreachable; logged once per event. */
async function installationGone(deps: SlackDeps, teamId: string, code: (typeof INSTALLATION_CODES)[number]): Promise<void> {
  try {
    const marked = await deps.interactions.workspaceUnreachable({ platform: 'slack', workspace: teamId }, code);
    deps.logger.warn(
      { team: teamId, code, rollouts: marked },
      'bwprep lost its Slack installation in this workspace; its scheduled digests stop until it is reinstalled',
    );
  } catch (err) {
    deps.logger.error({ err, team: teamId, code }, 'could not stop the scheduled work of an uninstalled workspace');
  }
}
