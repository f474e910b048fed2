import type { webApi } from '@slack/bolt';

/**
 * Who installed bwprep, from `auth.test` (docs.slack.dev/reference/methods/auth.test): the workspace
 * (`team_id`), on Enterprise Grid its organization (`enterprise_id`), and the bot's own user id (to
 * recognise events about the bot, such as `member_joined_channel`).
 */
export interface SlackInstallation {
  teamId: string;
  enterpriseId?: string;
  botUserId?: string;
}

/**
 * `auth.test` once per process: the first call asks Slack, every later call gets the same answer. A failed
 * call is not remembered, so the next caller asks again. Throws what the WebClient throws.
 */
export function installationOf(client: webApi.WebClient): () => Promise<SlackInstallation> {
  let pending: Promise<SlackInstallation> | undefined;
  return () => {
    pending ??= client.auth
      .test()
      .then((res) => ({
        teamId: String(res.team_id ?? ''),
        ...(res.enterprise_id ? { enterpriseId: String(res.enterprise_id) } : {}),
        ...(res.user_id ? { botUserId: String(res.user_id) } : {}),
      }))
      .catch((e: unknown) => {
        pending = undefined;
        throw e;
      });
    return pending;
  };
}

/**
 * Whether workspace admin rights from `users.info` count here (issue 9, Slack Connect): only for a person of
 * the installing workspace (`team_id`), or on Enterprise Grid of its organization (`enterprise_user.enterprise_id`).
 * A person from another organization in a shared channel is an ordinary member, whatever their own
 * workspace says. Unknown installation: no.
 */
export function adminRightsCount(user: { team_id?: string; enterprise_user?: { enterprise_id?: string } }, installation: SlackInstallation | undefined): boolean {
  if (!installation?.teamId) return false;
  if (user.team_id && user.team_id === installation.teamId) return true;
  const enterprise = user.enterprise_user?.enterprise_id;
  return Boolean(installation.enterpriseId && enterprise && enterprise === installation.enterpriseId);
}
