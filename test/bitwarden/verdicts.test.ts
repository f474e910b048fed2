import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FakeBitwardenServer, startFakeBitwarden } from '../fakes/bitwarden-server';
import { verdictMarkdown, verdictRows } from './verdicts';

const FILE = path.join(__dirname, 'VERDICTS.md');

let server: FakeBitwardenServer;
beforeAll(async () => {
  server = await startFakeBitwarden();
});
afterAll(async () => {
  await server.stop();
});

it('test/bitwarden/VERDICTS.md is the verdict table the fixtures produce today', async () => {
  const md = verdictMarkdown(await verdictRows(server));
  if (process.env.UPDATE_VERDICTS) writeFileSync(FILE, md);
  let current = '';
  try {
    current = readFileSync(FILE, 'utf8');
  } catch {
    // missing: the comparison below fails with the whole table
  }
  expect(current, 'run UPDATE_VERDICTS=1 npx vitest run test/bitwarden/verdicts.test.ts').toBe(md);
});
