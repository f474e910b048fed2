import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier a file imports or requires, with whether the import is type-only. */
function imports(file: string): { spec: string; typeOnly: boolean }[] {
  const src = readFileSync(file, 'utf8');
  const out: { spec: string; typeOnly: boolean }[] = [];
  for (const m of src.matchAll(/^\s*import\s+(type\s+)?[^;]*?from\s+['"]([^'"]+)['"]/gms)) out.push({ spec: m[2]!, typeOnly: Boolean(m[1]) });
  for (const m of src.matchAll(/(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false });
  return out;
}

const rel = (f: string) => path.relative(ROOT, f);

describe('architecture (DESIGN §3)', () => {
  it('core/ imports no platform or I/O package, and nothing outside core at run time', () => {
    const allowedPackages = new Set(['zod', 'luxon']);
    const problems: string[] = [];
    for (const f of files(path.join(ROOT, 'src', 'core'))) {
      for (const { spec, typeOnly } of imports(f)) {
        if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(f), spec);
          const inCore = target.startsWith(path.join(ROOT, 'src', 'core'));
          // Type-only imports of view models (the digest ports) carry no code.
          if (!inCore && !typeOnly) problems.push(`${rel(f)} imports ${spec} at run time`);
        } else if (!allowedPackages.has(spec)) {
          problems.push(`${rel(f)} imports the package ${spec}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('botbuilder stays inside src/teams/ (so moving to the Teams SDK touches one folder)', () => {
    const outside = files(path.join(ROOT, 'src'))
      .filter((f) => !f.startsWith(path.join(ROOT, 'src', 'teams')))
      .filter((f) => imports(f).some((i) => i.spec === 'botbuilder' || i.spec.startsWith('botbuilder-')));
    expect(outside.map(rel)).toEqual([]);
  });

  it('the Slack SDK is only imported by the Slack adapter and the composition root', () => {
    const allowed = [path.join(ROOT, 'src', 'slack'), path.join(ROOT, 'src', 'app.ts')];
    const outside = files(path.join(ROOT, 'src'))
      .filter((f) => !allowed.some((a) => f.startsWith(a)))
      .filter((f) => imports(f).some((i) => i.spec.startsWith('@slack/')));
    expect(outside.map(rel)).toEqual([]);
  });

  it('the application layer (src/interactions) imports no platform SDK, no I/O driver and no adapter', () => {
    const forbiddenPackages = /^(@slack\/|botbuilder|@microsoft\/|undici$|ioredis$|pg$|better-sqlite3$|pino$|keyv$)/;
    const adapters = ['slack', 'teams', 'cli', 'http', 'store', 'bitwarden'].map((d) => path.join(ROOT, 'src', d));
    const problems: string[] = [];
    for (const f of files(path.join(ROOT, 'src', 'interactions'))) {
      for (const { spec, typeOnly } of imports(f)) {
        if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(f), spec);
          // The store's AES helper is an exception: setup encrypts a new API key before it is saved.
          if (target === path.join(ROOT, 'src', 'store', 'crypto')) continue;
          // And the pure classifier that tells a store outage from a bug (no I/O, no driver import).
          if (target === path.join(ROOT, 'src', 'store', 'unavailable')) continue;
          if (!typeOnly && adapters.some((a) => target.startsWith(a))) problems.push(`${rel(f)} imports ${spec}`);
        } else if (forbiddenPackages.test(spec)) problems.push(`${rel(f)} imports the package ${spec}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('adapters import their own SDK and the application layer, never the flows beneath it', () => {
    // At run time an adapter may use: its own folder, the application layer, view models and i18n (to
    // render), logging and metrics, platform-free utilities (the work queue), the domain model's plain data and
    // constants, the core's error type and the
    // start-up error type. Not the service, the scheduler, the store or Bitwarden. Slack's HTTP transport is
    // undici (slack/http-client.ts), and so is Teams' Microsoft Graph lookup (teams/graph.ts).
    const allowedInternal = [
      'interactions',
      'views',
      'i18n',
      'logging',
      'metrics',
      'util',
      'core/errors',
      'core/time',
      'core/checklist/model',
      'config/errors',
    ].map((d) => path.join(ROOT, 'src', d));
    const sdk: Record<string, RegExp> = { slack: /^(@slack\/|undici$)/, teams: /^(botbuilder|botframework-|adaptivecards|@azure\/|bottleneck$|undici$)/ };
    const problems: string[] = [];
    for (const adapter of Object.keys(sdk)) {
      const dir = path.join(ROOT, 'src', adapter);
      let list: string[] = [];
      try {
        list = files(dir);
      } catch {
        continue; // not built yet
      }
      for (const f of list) {
        for (const { spec, typeOnly } of imports(f)) {
          if (typeOnly) continue;
          if (spec.startsWith('.')) {
            const target = path.resolve(path.dirname(f), spec);
            if (target.startsWith(dir) || allowedInternal.some((a) => target === a || target.startsWith(`${a}/`) || target.startsWith(a))) continue;
            problems.push(`${rel(f)} imports ${spec}`);
          } else if (!spec.startsWith('node:') && !sdk[adapter]!.test(spec) && !['zod'].includes(spec)) {
            problems.push(`${rel(f)} imports the package ${spec}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
