import { textMention } from '../views/rich';

/**
 * Text as Slack delivers it, made plain once on the way in (docs.slack.dev "Formatting text for app
 * surfaces" → "Escaping text"; slash commands with `should_escape: true`; `message` events).
 *
 * Slack escapes `&`, `<`, `>` as `&amp;`, `&lt;`, `&gt;` and writes its own references in angle brackets:
 * people `<@U0BOB|bob>`, channels `<#C0123|name>`, groups `<!subteam^S01|@team>`, `<!here>`, links
 * `<https://…|label>`. bwprep stores plain text: a person becomes the platform-neutral `<@slack:U0BOB>`
 * (src/views/rich.ts `userText`, shown as a mention on Slack and as a name/id in the console and exports);
 * the other references become the text a person reads (`#name`, `@team`, `@here`, `label (url)`). Entities
 * are decoded last and exactly once, so `&amp;lt;` stays the text `&lt;` a person typed. Every renderer
 * escapes again for its own format on the way out (src/slack/blocks/mrkdwn.ts for Slack).
 */
export function slackTextToPlain(text: string): string {
  const plain = text.replace(/<([^<>]*)>/g, (whole, inner: string) => reference(inner) ?? whole);
  return decodeEntities(plain);
}

/** `&lt;` `&gt;` `&amp;` → `<` `>` `&`, once (Slack's only escapes). */
function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_m, e: string) => (e === 'amp' ? '&' : e === 'lt' ? '<' : '>'));
}

function reference(inner: string): string | undefined {
  const bar = inner.indexOf('|');
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? inner.slice(bar + 1) : '';
  const user = /^@([UW][A-Z0-9]+)$/.exec(target);
  if (user) return textMention(`slack:${user[1]}`);
  if (target.startsWith('#C') || target.startsWith('#G')) return label ? `#${label}` : target;
  if (target.startsWith('!subteam^')) return label || '@group';
  if (target.startsWith('!')) {
    const special = target.slice(1).split('^')[0];
    return label || `@${special}`;
  }
  if (/^(https?|mailto):/i.test(target)) return label && label !== target.replace(/^mailto:/i, '') ? `${label} (${target})` : target.replace(/^mailto:/i, '');
  return undefined;
}
