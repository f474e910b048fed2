import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../src/commands/parse';

const root = path.resolve(__dirname, '..', '..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');

interface SlashCommand {
  command: string;
  url?: string;
  description: string;
  usage_hint?: string;
  should_escape?: boolean;
}
interface Manifest {
  display_information: { name: string; description?: string; long_description?: string; background_color?: string };
  features: {
    app_home?: { home_tab_enabled?: boolean; messages_tab_enabled?: boolean };
    bot_user?: { display_name: string; always_online?: boolean };
    slash_commands?: SlashCommand[];
  };
  oauth_config: { scopes: { bot?: string[]; user?: string[] } };
  settings: {
    event_subscriptions?: { request_url?: string; bot_events?: string[] };
    interactivity?: { is_enabled: boolean; request_url?: string };
    socket_mode_enabled?: boolean;
  };
}

const parse = (rel: string): Manifest => JSON.parse(read(rel)) as Manifest;
const http = parse('manifests/slack/manifest.http.json');
const socket = parse('manifests/slack/manifest.socket.json');
const EVENTS_URL = 'https://YOUR-HOST/slack/events';

/** Every Web API method bwprep may call, with the bot scope it needs ('' = none). */
const METHOD_SCOPES: Record<string, string> = {
  'auth.test': '',
  'chat.postMessage': 'chat:write', // chat:write.public as well to post in channels the bot was not invited to
  'chat.update': 'chat:write',
  'chat.delete': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.getPermalink': '',
  'views.publish': '',
  'views.open': '',
  'views.update': '',
  'views.push': '',
  'users.info': 'users:read',
  'conversations.open': 'im:write',
  'conversations.info': 'channels:read', // groups:read for private channels
  'conversations.history': 'channels:history', // groups:history for private channels (the digest reconciliation)
  'files.getUploadURLExternal': 'files:write',
  'files.completeUploadExternal': 'files:write',
  filesUploadV2: 'files:write',
};

function walk(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('Slack app manifests', () => {
  it.each([
    ['http', http],
    ['socket', socket],
  ] as const)('%s manifest has the bwprep identity, App Home and the /bwprep command', (_name, m) => {
    expect(m.display_information.name).toBe('bwprep');
    expect(m.display_information.description?.length ?? 0).toBeGreaterThan(0);
    expect(m.display_information.description?.length ?? 0).toBeLessThanOrEqual(140); // Slack's limit
    const long = m.display_information.long_description ?? '';
    expect(long.length === 0 || (long.length >= 175 && long.length <= 4000)).toBe(true);
    expect(m.display_information.background_color).toMatch(/^#[0-9a-f]{6}$/i);
    expect(m.features.bot_user).toEqual({ display_name: 'bwprep', always_online: true });
    expect(m.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: true });
    expect(m.features.slash_commands).toHaveLength(1);
    const cmd = m.features.slash_commands?.[0] as SlashCommand;
    expect(cmd.command).toBe('/bwprep');
    expect(cmd.should_escape).toBe(true); // escaped: a mention arrives as <@U…|name>, which parse.ts expects (unescaped it is plain @name)
    expect(cmd.usage_hint).toBe('status | mine | assign <step> @user | done <step> | check | digest | setup | help');
    expect(cmd.description.length).toBeGreaterThan(0);
    expect(m.settings.interactivity?.is_enabled).toBe(true);
    // Issue 9: the Messages tab answers DMs (message.im); the bot hears when it can post again
    // (member_joined_channel, *_unarchive) and when the installation is gone (app_uninstalled, tokens_revoked).
    expect(m.settings.event_subscriptions?.bot_events).toEqual(['app_home_opened', 'message.im', 'member_joined_channel', 'channel_unarchive', 'group_unarchive', 'app_uninstalled', 'tokens_revoked']);
  });

  it('both variants have the same command, scopes and events', () => {
    const strip = (c: SlashCommand) => ({ ...c, url: undefined });
    expect(socket.features.slash_commands?.map(strip)).toEqual(http.features.slash_commands?.map(strip));
    expect(socket.oauth_config.scopes).toEqual(http.oauth_config.scopes);
    expect(socket.settings.event_subscriptions?.bot_events).toEqual(http.settings.event_subscriptions?.bot_events);
    expect(socket.features.app_home).toEqual(http.features.app_home);
    expect(socket.display_information).toEqual(http.display_information);
    // Least privilege: only the scopes of methods bwprep calls (see the next tests).
    // im:history for message.im; channels:read / groups:read for member_joined_channel and the unarchive events;
    // channels:history / groups:history for conversations.history (did a digest go out before a crash?).
    expect(http.oauth_config.scopes.bot).toEqual(['commands', 'chat:write', 'chat:write.public', 'users:read', 'im:write', 'files:write', 'im:history', 'channels:read', 'groups:read', 'channels:history', 'groups:history']);
    expect(http.oauth_config.scopes.user).toBeUndefined();
  });

  it('every subscribed bot event has its scope', () => {
    const EVENT_SCOPES: Record<string, string[]> = {
      app_home_opened: [],
      app_uninstalled: [],
      tokens_revoked: [],
      'message.im': ['im:history'],
      member_joined_channel: ['channels:read', 'groups:read'],
      channel_unarchive: ['channels:read'],
      group_unarchive: ['groups:read'],
    };
    const scopes = new Set(http.oauth_config.scopes.bot ?? []);
    for (const e of http.settings.event_subscriptions?.bot_events ?? []) {
      expect(EVENT_SCOPES[e], `scope of ${e}`).toBeDefined();
      for (const s of EVENT_SCOPES[e] ?? []) expect(scopes.has(s), `${e} needs ${s}`).toBe(true);
    }
  });

  it('the HTTP variant sends commands, events and interactivity to /slack/events', () => {
    expect(http.settings.socket_mode_enabled).toBe(false);
    expect(http.features.slash_commands?.[0]?.url).toBe(EVENTS_URL);
    expect(http.settings.event_subscriptions?.request_url).toBe(EVENTS_URL);
    expect(http.settings.interactivity?.request_url).toBe(EVENTS_URL);
  });

  it('the Socket Mode variant has no URLs at all', () => {
    expect(socket.settings.socket_mode_enabled).toBe(true);
    const raw = read('manifests/slack/manifest.socket.json');
    expect(raw).not.toMatch(/"(url|request_url)"/);
    expect(raw).not.toMatch(/https?:\/\//);
  });

  it('every command of the grammar is in the usage hint or the README command table', () => {
    const hint = http.features.slash_commands?.[0]?.usage_hint ?? '';
    const hintWords = new Set(hint.split(/[\s|]+/).filter(Boolean));
    const readme = read('README.md');
    const tableRows = readme.split('\n').filter((l) => /^\|\s*`/.test(l));
    const missing = COMMAND_NAMES.filter((name) => !hintWords.has(name) && !tableRows.some((row) => new RegExp(`^\\|\\s*\`(/bwprep )?${name}\\b`).test(row)));
    expect(missing).toEqual([]);
  });

  it('every Slack Web API method called in src/slack/ is covered by a bot scope in the manifests', () => {
    const scopes = new Set(http.oauth_config.scopes.bot ?? []);
    const called = new Set<string>();
    const re = /\.(auth|chat|views|users|conversations|files|reactions|pins|bookmarks|usergroups|team)\.([a-zA-Z]+)\(|\b(filesUploadV2)\(|apiCall\(\s*['"]([a-zA-Z]+\.[a-zA-Z.]+)['"]/g;
    // Only the Slack adapter talks to Slack (test/architecture.test.ts); other folders may have methods with these names.
    for (const file of walk(path.join(root, 'src', 'slack'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(re)) called.add(m[3] ?? m[4] ?? `${m[1]}.${m[2]}`);
    }
    const unknown = [...called].filter((m) => !(m in METHOD_SCOPES));
    expect(unknown, 'add these methods (and their scopes) to METHOD_SCOPES and both manifests').toEqual([]);
    const uncovered = [...called].filter((m) => METHOD_SCOPES[m] && !scopes.has(METHOD_SCOPES[m] as string));
    expect(uncovered).toEqual([]);
  });
});
