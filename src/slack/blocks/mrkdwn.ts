import type { Rich } from '../../views/rich';

/**
 * Structured text → Slack mrkdwn (docs.slack.dev "Formatting text for app surfaces").
 *
 * Plain text is escaped exactly once: `&`, `<`, `>` become entities (Slack's only escapes), and the
 * formatting markers `*`, `_`, `~`, `` ` `` in text that is not ours get a zero-width joiner beside them so
 * Slack does not read a user's `*412*` as bold; the text still reads and copies as typed. Commands show as
 * `/bwprep …`, people as mentions (`<@U…>`), Slack channels as channel links.
 */
export function mrkdwn(r: Rich): string {
  let s = '';
  for (const x of r) {
    if (typeof x === 'string') s += escText(x);
    else if ('strong' in x) s += wrapMarker('*', mrkdwn(x.strong));
    else if ('em' in x) s += wrapMarker('_', mrkdwn(x.em));
    else if ('code' in x) s += `\`${escCode(x.code)}\``;
    else if ('command' in x) s += `\`${escCode(slashCommand(x.command))}\``;
    else if ('user' in x) s += slackUser(x.user);
    else if ('conversation' in x)
      s +=
        x.conversation.platform === 'slack'
          ? `<#${x.conversation.channel}>`
          : escText(x.conversation.name ? `#${x.conversation.name}` : x.conversation.channel);
    else if ('link' in x) s += `<${x.link.replace(/[<>|]/g, encodeURIComponent)}|${mrkdwn(x.label).replace(/[|>]/g, '')}>`;
  }
  return s;
}

/** The Slack spelling of a bwprep command: `done 2a` → `/bwprep done 2a`. */
function slashCommand(cmd: string): string {
  return cmd ? `/bwprep ${cmd}` : '/bwprep';
}

/** Escapes &, <, > (Slack's entity escapes). */
export function esc(text: string): string {
  // Most card text has nothing to escape: one test instead of three replaces (a card has ~100 texts).
  if (!/[&<>]/.test(text)) return text;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ZWJ = '\u2060';

/** Plain text for mrkdwn: entities escaped once, formatting markers neutralised with a word joiner. */
export function escText(text: string): string {
  const escaped = esc(text);
  return /[*_~`]/.test(escaped) ? escaped.replace(/[*_~`]/g, (m) => `${m}${ZWJ}`) : escaped;
}

function escCode(text: string): string {
  // Inside code Slack applies no formatting; a backtick would end it, so show a look-alike instead.
  return esc(text).replace(/`/g, 'ˋ');
}

function wrapMarker(marker: string, inner: string): string {
  // Slack only formats a marker pair that hugs non-space text.
  const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(inner)!;
  return m[2] ? `${m[1]}${marker}${m[2]}${marker}${m[3]}` : inner;
}

/** `slack:U0BOB` → `<@U0BOB>`; other platforms' people shown by id, escaped. */
export function slackUser(key: string): string {
  return key.startsWith('slack:') ? `<@${key.slice(6)}>` : escText(key.replace(/^[a-z]+:/, ''));
}
