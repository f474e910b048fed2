/** Block Kit limits (docs.slack.dev/reference/block-kit/blocks); the renderers stay inside them. */
export const SLACK_LIMITS = {
  messageBlocks: 50,
  homeBlocks: 100,
  modalBlocks: 100,
  sectionText: 3000,
  contextText: 2000,
  buttonText: 75,
  headerText: 150,
  actionsElements: 25,
  fallbackText: 4000,
} as const;

/** Cuts text to a limit with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Escapes &, <, > as Slack mrkdwn requires (user text such as notes and reasons). */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `slack:U0BOB` → `<@U0BOB>`; other platforms' users shown by id. */
export function slackUser(key: string): string {
  return key.startsWith('slack:') ? `<@${key.slice(6)}>` : esc(key.replace(/^[a-z]+:/, ''));
}
