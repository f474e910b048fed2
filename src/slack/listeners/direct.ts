import type { Requester } from '../../interactions/ports';
import type { SlackDeps } from '../app';
import { resolveSlackMention } from '../context';
import { slackTextToPlain } from '../text';

/** A Slack channel reference `<#C0123|name>` standing as its own word: the rollout a direct message names. */
const CHANNEL_REF = /(^|\s)<#([CG][A-Z0-9]+)(?:\|([^>]*))?>(?=\s|$)/;

/**
 * A command given outside a channel — typed in the app's Messages tab (`message.im`) or as `/bwprep …` in a
 * direct message — as one call of the application layer's direct-message journey. The first channel
 * reference names the rollout; the rest of the text is decoded once (src/slack/text.ts) and parsed.
 */
export async function directCommand(deps: SlackDeps, requester: Requester, rawText: string, teamId: string): Promise<void> {
  const ref = CHANNEL_REF.exec(rawText);
  const text = ref ? rawText.replace(CHANNEL_REF, ' ') : rawText;
  const conversation = ref ? { platform: 'slack' as const, workspace: teamId, channel: ref[2]!, ...(ref[3] ? { name: ref[3] } : {}) } : undefined;
  await deps.interactions.direct(requester, slackTextToPlain(text), resolveSlackMention, conversation);
}
