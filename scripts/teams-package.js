#!/usr/bin/env node
// Builds the Microsoft Teams app package (the zip you upload in Teams or the Developer Portal) from
// manifests/teams/: manifest.json and nl.json with their ${{PLACEHOLDERS}} filled from the environment
// (or .env), plus color.png and outline.png, all at the root of the zip as Teams requires.
//
//   npm run teams:package                      → dist/teams/bwprep-teams.zip
//   npm run teams:package -- --out my.zip
//
// Settings (README → Microsoft Teams):
//   MICROSOFT_APP_ID      required: the Azure Bot's Microsoft App ID (the manifest's bots[0].botId)
//   TEAMS_APP_ID          the Teams app id (a GUID); default MICROSOFT_APP_ID
//   BOT_DOMAIN            the bot's public host name, e.g. bwprep.example.com; default the host of BWPREP_PUBLIC_URL
//   TEAMS_DEVELOPER_NAME  shown in the Teams store listing; default "bwprep"
//   TEAMS_WEBSITE_URL, TEAMS_PRIVACY_URL, TEAMS_TERMS_URL   https URLs; default https://<BOT_DOMAIN>/
// Zipped with fflate (small, dependency-free, maintained; the tests unzip with the same library), with a fixed
// file time so the same settings give the same bytes.
const fs = require('node:fs');
const path = require('node:path');
const { strToU8, zipSync } = require('fflate');

const ROOT = path.join(__dirname, '..');
const SRC = path.join(ROOT, 'manifests', 'teams');
const FILES = ['manifest.json', 'nl.json', 'color.png', 'outline.png'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FIXED_MTIME = new Date('2026-01-01T00:00:00Z');

/** Placeholder values from the environment, or the list of problems. */
function settings(env) {
  const get = (k) => (env[k] ?? '').trim();
  const problems = [];
  const appId = get('MICROSOFT_APP_ID');
  if (!appId) problems.push('MICROSOFT_APP_ID is required (Azure Bot → Configuration → Microsoft App ID)');
  else if (!GUID.test(appId)) problems.push('MICROSOFT_APP_ID must be a GUID such as 00000000-0000-0000-0000-000000000000');
  const teamsAppId = get('TEAMS_APP_ID') || appId;
  if (get('TEAMS_APP_ID') && !GUID.test(teamsAppId)) problems.push('TEAMS_APP_ID must be a GUID');
  let domain = get('BOT_DOMAIN');
  if (!domain && get('BWPREP_PUBLIC_URL')) {
    try {
      domain = new URL(get('BWPREP_PUBLIC_URL')).host;
    } catch {
      problems.push('BWPREP_PUBLIC_URL must be a URL such as https://bwprep.example.com');
    }
  }
  if (!domain) problems.push('BOT_DOMAIN is required (the public host name of /api/messages, e.g. bwprep.example.com), or set BWPREP_PUBLIC_URL');
  else if (!/^[a-z0-9.-]+(:\d+)?$/i.test(domain)) problems.push('BOT_DOMAIN must be a host name such as bwprep.example.com, without https:// or a path');
  const website = get('TEAMS_WEBSITE_URL') || `https://${domain}/`;
  const values = {
    MICROSOFT_APP_ID: appId,
    TEAMS_APP_ID: teamsAppId,
    BOT_DOMAIN: domain,
    PACKAGE_VERSION: JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
    TEAMS_DEVELOPER_NAME: get('TEAMS_DEVELOPER_NAME') || 'bwprep',
    TEAMS_WEBSITE_URL: website,
    TEAMS_PRIVACY_URL: get('TEAMS_PRIVACY_URL') || website,
    TEAMS_TERMS_URL: get('TEAMS_TERMS_URL') || website,
  };
  for (const k of ['TEAMS_WEBSITE_URL', 'TEAMS_PRIVACY_URL', 'TEAMS_TERMS_URL']) {
    if (domain && !/^https:\/\/\S+$/.test(values[k])) problems.push(`${k} must be an https:// URL`);
  }
  const readMessages = get('TEAMS_READ_MESSAGES').toLowerCase() || 'true';
  if (!['true', 'false'].includes(readMessages)) problems.push('TEAMS_READ_MESSAGES must be true or false');
  return { values, problems, readMessages: readMessages !== 'false' };
}

/** Replaces every ${{NAME}} in a JSON text with its JSON-escaped value; throws on an unknown name. */
function fill(text, values, file) {
  return text.replace(/\$\{\{([A-Z0-9_]+)\}\}/g, (_, name) => {
    if (!(name in values)) throw new Error(`${file}: unknown placeholder \${{${name}}}`);
    return JSON.stringify(String(values[name])).slice(1, -1);
  });
}

function build(env, out) {
  const { values, problems, readMessages } = settings(env);
  if (problems.length) {
    process.stderr.write(
      `Cannot build the Teams package: ${problems.length} setting${problems.length === 1 ? ' is' : 's are'} missing or invalid.\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    process.exit(2);
  }
  const entries = {};
  for (const f of FILES) {
    const raw = fs.readFileSync(path.join(SRC, f));
    let json = f.endsWith('.json') ? JSON.parse(fill(raw.toString('utf8'), values, f)) : undefined;
    // Without the resource-specific consent the app asks nothing of team owners, and Teams digests stay at most once.
    if (f === 'manifest.json' && !readMessages) {
      const { webApplicationInfo: _w, authorization: _a, ...rest } = json;
      json = rest;
    }
    const data = json ? strToU8(JSON.stringify(json, null, 2)) : new Uint8Array(raw);
    entries[f] = [data, { mtime: FIXED_MTIME }];
  }
  const zip = zipSync(entries, { level: 9 });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, zip);
  process.stdout.write(
    `Teams app package: ${path.relative(process.cwd(), out) || out} (${zip.length} bytes; app id ${values.TEAMS_APP_ID}, bot ${values.MICROSOFT_APP_ID}, domain ${values.BOT_DOMAIN})\n`,
  );
}

const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const out = path.resolve(outIdx >= 0 && args[outIdx + 1] ? args[outIdx + 1] : path.join(ROOT, 'dist', 'teams', 'bwprep-teams.zip'));
if (fs.existsSync(path.join(process.cwd(), '.env')) && !args.includes('--no-dotenv')) process.loadEnvFile(path.join(process.cwd(), '.env'));
build(process.env, out);
