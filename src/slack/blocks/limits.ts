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
