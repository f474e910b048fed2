import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bwprep, startBwprep } from '../../src/app';
import { consoleCommands } from '../../src/cli/console-commands';
import { runConsole } from '../../src/cli/console';
import { loadConfig } from '../../src/config/load';
import { createLogger } from '../../src/logging/logger';
import { FakeBitwardenServer } from '../fakes/bitwarden-server';
import { FAKE_SECRET, readyOrg } from '../fixtures/bitwarden';

let bw: FakeBitwardenServer;
let app: Bwprep;
let dir: string;

beforeAll(async () => {
  bw = await new FakeBitwardenServer().start();
  bw.load(readyOrg(new Date()));
  dir = mkdtempSync(path.join(tmpdir(), 'bwprep-console-'));
  const config = loadConfig({
    BWPREP_STORE_URL: `sqlite://${path.join(dir, 'store.sqlite')}`,
    BWPREP_LOCALE: 'en',
    BW_API_URL: bw.url,
    BW_IDENTITY_URL: `${bw.url}/identity`,
    BW_CLIENT_ID: bw.clientId,
    BW_CLIENT_SECRET: FAKE_SECRET,
  });
  app = await startBwprep(config, { logger: createLogger({ level: 'silent' }) });
});
afterAll(async () => {
  await app.stop();
  await bw.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function session(lines: string[]): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const done = runConsole({ service: app.service, template: app.template, clock: app.clock, input, output, user: 'cli:admin', locale: 'en', onCommand: consoleCommands(app, 'cli:admin', dir) });
  input.end(`${lines.join('\n')}\n`);
  await done;
  return out;
}

describe('console check, digest and export', () => {
  it('check runs the Bitwarden checks and verifies the steps', async () => {
    const out = await session(['check']);
    expect(out).toContain('Verification against Bitwarden');
    expect(out).toContain('9 pass');
    expect(out).toContain('now verified');
    expect(out).not.toContain(FAKE_SECRET);
    expect((await app.service.get('cli:local:console'))?.steps['2a']?.state).toBe('verified');
  });

  it('digest shows a preview with the readiness figures', async () => {
    const out = await session(['digest']);
    expect(out).toContain('Daily readiness digest');
    expect(out).toContain('Preview');
    expect(out).toMatch(/Readiness: \d+% of steps/);
  });

  it('export md writes the readiness report with evidence to a file', async () => {
    const out = await session(['export md']);
    const file = /written to (\S+\.md)/.exec(out)?.[1];
    expect(file && existsSync(file)).toBe(true);
    const md = readFileSync(file!, 'utf8');
    expect(md).toContain('# Bitwarden readiness report');
    expect(md).toContain('GET /public/policies');
    expect(md).toContain('| 2a |');
  });
});
