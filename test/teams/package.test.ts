import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { strFromU8, unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_NAMES, parseCommand } from '../../src/commands/parse';

/**
 * The Teams app package as `npm run teams:package` builds it (the script run as a child process, with
 * obviously fake ids), checked against Microsoft's published JSON schemas for manifest v1.19 (bundled in
 * @microsoft/app-manifest, so the test needs no network) and Teams' icon rules.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'teams-package.js');
const SCHEMAS = path.join(ROOT, 'node_modules', '@microsoft', 'app-manifest', 'build', 'json-schemas', 'teams', 'v1.19');
const FAKE_APP_ID = '00000000-0000-4000-8000-0000000000b0';
const FAKE_TEAMS_APP_ID = '00000000-0000-4000-8000-0000000000a0';

let dir: string;
let files: Record<string, Uint8Array>;
let manifest: Record<string, any>;
let nl: Record<string, string>;

function runScript(env: Record<string, string>, out: string) {
  return spawnSync(process.execPath, [SCRIPT, '--out', out, '--no-dotenv'], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bwprep-teams-pkg-'));
  const out = path.join(dir, 'pkg.zip');
  execFileSync(process.execPath, [SCRIPT, '--out', out, '--no-dotenv'], {
    env: { PATH: process.env.PATH ?? '', MICROSOFT_APP_ID: FAKE_APP_ID, TEAMS_APP_ID: FAKE_TEAMS_APP_ID, BWPREP_PUBLIC_URL: 'https://bwprep.example.com/base' },
  });
  files = unzipSync(readFileSync(out));
  manifest = JSON.parse(strFromU8(files['manifest.json']!));
  nl = JSON.parse(strFromU8(files['nl.json']!));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function validate(schemaFile: string, doc: unknown): unknown[] {
  // As @microsoft/app-manifest validates (ajv draft-04 + formats); its localization schema has a pattern
  // JavaScript only accepts without the u flag.
  const ajv = new Ajv({ allErrors: true, strictTypes: false, unicodeRegExp: false });
  addFormats(ajv, ['uri', 'email', 'regex']);
  const check = ajv.compile(JSON.parse(readFileSync(path.join(SCHEMAS, schemaFile), 'utf8')));
  return check(doc) ? [] : (check.errors ?? []);
}

describe('Teams app package (npm run teams:package)', () => {
  it('holds exactly the manifest, the Dutch localization and both icons, at the root of the zip', () => {
    expect(Object.keys(files).sort()).toEqual(['color.png', 'manifest.json', 'nl.json', 'outline.png']);
  });

  it('fills every placeholder from the settings', () => {
    const text = strFromU8(files['manifest.json']!);
    expect(text).not.toContain('${{');
    expect(manifest.id).toBe(FAKE_TEAMS_APP_ID);
    expect(manifest.bots[0].botId).toBe(FAKE_APP_ID);
    expect(manifest.validDomains).toEqual(['bwprep.example.com']);
    expect(manifest.version).toBe(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
    expect(manifest.developer).toMatchObject({ websiteUrl: 'https://bwprep.example.com/', privacyUrl: 'https://bwprep.example.com/' });
  });

  it('asks for resource-specific consent to read its teams’ and chats’ messages (the Teams digest lookup), for the bot’s own app id', () => {
    // Teams grants RSC to the Entra app named in webApplicationInfo: it must be the bot's, whose token reads Graph.
    // `resource` does nothing for RSC, but Teams wants a value (msteams-docs, grant-resource-specific-consent).
    expect(manifest.webApplicationInfo).toEqual({ id: FAKE_APP_ID, resource: 'https://bwprep.example.com' });
    expect(manifest.authorization.permissions.resourceSpecific).toEqual([
      { name: 'ChannelMessage.Read.Group', type: 'Application' },
      { name: 'ChatMessage.Read.Chat', type: 'Application' },
    ]);
  });

  it('TEAMS_READ_MESSAGES=false builds a package that asks for no resource-specific consent (still a valid manifest)', () => {
    const out = path.join(dir, 'no-rsc.zip');
    const r = runScript({ MICROSOFT_APP_ID: FAKE_APP_ID, BOT_DOMAIN: 'bwprep.example.com', TEAMS_READ_MESSAGES: 'false' }, out);
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(strFromU8(unzipSync(readFileSync(out))['manifest.json']!));
    expect(m.authorization).toBeUndefined();
    expect(m.webApplicationInfo).toBeUndefined();
    expect(validate('MicrosoftTeams.schema.json', m)).toEqual([]);
    expect(runScript({ MICROSOFT_APP_ID: FAKE_APP_ID, BOT_DOMAIN: 'bwprep.example.com', TEAMS_READ_MESSAGES: 'maybe' }, out).stderr).toContain(
      'TEAMS_READ_MESSAGES must be true or false',
    );
  });

  it('is a valid v1.19 manifest with every required field, and a valid localization file', () => {
    expect(manifest.manifestVersion).toBe('1.19');
    for (const field of ['manifestVersion', 'version', 'id', 'developer', 'name', 'description', 'icons', 'accentColor'])
      expect(manifest[field], field).toBeDefined();
    expect(validate('MicrosoftTeams.schema.json', manifest)).toEqual([]);
    expect(validate('MicrosoftTeams.Localization.schema.json', nl)).toEqual([]);
    expect(manifest.localizationInfo.additionalLanguages).toContainEqual({ languageTag: 'nl-nl', file: 'nl.json' });
  });

  it('offers the bot in personal, team and group chat scopes, with a command list for each', () => {
    const bot = manifest.bots[0];
    expect(bot.scopes.sort()).toEqual(['groupChat', 'personal', 'team']);
    const covered = bot.commandLists.flatMap((l: { scopes: string[] }) => l.scopes).sort();
    expect(covered).toEqual(['groupChat', 'personal', 'team']);
  });

  it('lists only commands of the grammar, with descriptions that document their arguments', () => {
    const ctx = { resolveUser: () => 'teams:fake' };
    for (const list of manifest.bots[0].commandLists as { scopes: string[]; commands: { title: string; description: string }[] }[]) {
      const titles = list.commands.map((c) => c.title);
      expect(titles.length).toBeLessThanOrEqual(10);
      expect(new Set(titles).size).toBe(titles.length);
      expect(titles).toContain('help');
      expect(titles).toContain('status');
      for (const c of list.commands) {
        expect(COMMAND_NAMES as readonly string[], `${list.scopes}: ${c.title}`).toContain(c.title);
        expect(c.description.length).toBeGreaterThan(0);
        expect(c.description).not.toMatch(/\*|\/bwprep|<@/);
        // A command the grammar refuses bare needs arguments: its description starts with them, then ':'.
        let needsArgs = false;
        try {
          parseCommand(c.title, ctx);
        } catch {
          needsArgs = true;
        }
        if (needsArgs) expect(c.description, c.title).toMatch(/^[^:]+:/);
      }
    }
  });

  it('has a Dutch title and description for every command (titles stay the typed English words)', () => {
    manifest.bots[0].commandLists.forEach((list: { commands: { title: string; description: string }[] }, i: number) => {
      list.commands.forEach((c, j) => {
        expect(nl[`bots[0].commandLists[${i}].commands[${j}].title`]).toBe(c.title);
        const d = nl[`bots[0].commandLists[${i}].commands[${j}].description`];
        expect(d, c.title).toBeTruthy();
        expect(d).not.toBe(c.description);
        // Same argument shape: the part before ':' has as many arguments.
        const args = (s: string) => (s.includes(':') ? s.split(':')[0]!.trim().split(/\s+/).length : 0);
        expect(args(d as string), c.title).toBe(args(c.description));
      });
    });
    expect(nl['description.short']).toContain('proefperiode');
  });

  it('has a 192×192 colour icon and a 32×32 outline icon that is white on transparent', () => {
    const color = PNG.sync.read(Buffer.from(files['color.png']!));
    expect([color.width, color.height]).toEqual([192, 192]);
    const outline = PNG.sync.read(Buffer.from(files['outline.png']!));
    expect([outline.width, outline.height]).toEqual([32, 32]);
    let transparent = 0;
    let visible = 0;
    const notWhite: number[] = [];
    for (let i = 0; i < outline.data.length; i += 4) {
      const [r, g, b, a] = [outline.data[i], outline.data[i + 1], outline.data[i + 2], outline.data[i + 3]];
      if (a === 0) transparent++;
      else {
        visible++;
        if (r !== 255 || g !== 255 || b !== 255) notWhite.push(i / 4);
      }
    }
    expect(notWhite).toEqual([]);
    expect(transparent).toBeGreaterThan(32 * 32 * 0.4);
    expect(visible).toBeGreaterThan(32 * 32 * 0.1);
    // Corners are transparent: no background.
    for (const p of [0, 31, 32 * 31, 32 * 32 - 1]) expect(outline.data[p * 4 + 3]).toBe(0);
  });

  it('builds the same bytes from the same settings', () => {
    const a = path.join(dir, 'a.zip');
    const b = path.join(dir, 'b.zip');
    const env = { MICROSOFT_APP_ID: FAKE_APP_ID, BOT_DOMAIN: 'bwprep.example.com' };
    expect(runScript(env, a).status).toBe(0);
    expect(runScript(env, b).status).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(JSON.parse(strFromU8(unzipSync(readFileSync(a))['manifest.json']!)).id).toBe(FAKE_APP_ID);
  });

  it('names the missing settings and builds nothing without them', () => {
    const out = path.join(dir, 'missing.zip');
    const r = runScript({}, out);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('MICROSOFT_APP_ID is required');
    expect(r.stderr).toContain('BOT_DOMAIN is required');
    expect(existsSync(out)).toBe(false);
  });
});
