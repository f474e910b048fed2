import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { StartupError } from '../../src/config/errors';
import { createLogger } from '../../src/logging/logger';
import { slimWork } from '../../src/slack/offload';
import { SlackWorkThread, workThreadEntry } from '../../src/work-thread';
import { t } from '../../src/i18n';

/**
 * The main thread's side of the Slack work thread when the thread misbehaves. The real worker
 * (src/work-thread/worker.ts) runs in the built app (test/faults/work-thread.e2e.test.ts); a thread that dies
 * half-way through a request cannot be caused there on purpose, so these peers are small scripts that speak
 * the same messages (FromWorker in src/work-thread/index.ts) and then die or refuse.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'bwprep-offload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = path.join(dir, `${name}.js`);
  writeFileSync(file, `const { parentPort, threadId } = require('node:worker_threads');\n${body}\n`);
  return file;
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { logger, lines };
}

const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-0000-fake', SLACK_SIGNING_SECRET: 'fake-signing-secret-0000', BWPREP_STORE_URL: 'sqlite:///tmp/x.sqlite' });
const command = { kind: 'command' as const, command: { text: 'status' } as never };

describe('the Slack work thread, seen from the main thread', () => {
  it('a thread that dies after the answer but before its work is done: the person is told in the default language with a reference, and the next request gets a new thread', async () => {
    // Settles every request, then dies before "done" (its thread id tells the two threads apart).
    const entry = script(
      'dies',
      `parentPort.postMessage({ type: 'ready' });
parentPort.on('message', (m) => { if (m.type === 'work') { parentPort.postMessage({ type: 'settled', id: m.id }); setTimeout(() => process.exit(3), 20); } });`,
    );
    const { logger, lines } = logCapture();
    const thread = new SlackWorkThread({ entry, init: { config }, logger, defaultLocale: 'nl' });
    await thread.start();
    const told: string[] = [];
    expect(
      await thread.run(
        command,
        async (text) => void told.push(text),
        () => undefined,
      ),
    ).toBe('handed');
    await thread.idle();
    expect(told).toHaveLength(1);
    const ref = /Referentie: ([0-9a-f]{8})\./.exec(told[0] ?? '')?.[1];
    expect(told[0]).toBe(`⚠️ ${t('nl', 'error.work_lost', { ref: ref ?? '?' })}`);
    const died = lines.find(
      (l) => l.msg === 'the Slack work thread ended unexpectedly; its requests were answered with an error and it starts again on the next request',
    );
    expect(died).toMatchObject({ level: 'error', exitCode: 3, lost: 1, ref });
    // The next request starts a new thread and is handed over as usual.
    await thread.run(
      command,
      async (text) => void told.push(text),
      () => undefined,
    );
    await thread.idle();
    expect(lines.filter((l) => String(l.msg).startsWith('Slack work thread ready'))).toHaveLength(2);
    await thread.stop(500);
  });

  it('a thread that dies before it answers: the work slot goes back and the person is told', async () => {
    const entry = script(
      'crashes',
      `parentPort.postMessage({ type: 'ready' });
parentPort.on('message', (m) => { if (m.type === 'work') throw new Error('boom in the work thread'); });`,
    );
    const { logger, lines } = logCapture();
    const thread = new SlackWorkThread({ entry, init: { config }, logger, defaultLocale: 'en' });
    await thread.start();
    const told: string[] = [];
    let settled = 0;
    expect(
      await thread.run(
        command,
        async (text) => void told.push(text),
        () => void settled++,
      ),
    ).toBe('handed');
    await thread.idle(); // the thread died with the work: nothing is left waiting
    expect(settled).toBe(1); // the work slot went back
    expect(told[0]).toMatch(/^⚠️ Something went wrong on our side while bwprep handled this\. Check the card/);
    expect(lines.some((l) => l.level === 'error' && l.msg === 'the Slack work thread failed')).toBe(true);
    await thread.stop(500);
  });

  it('a thread that cannot start passes its start-up sentence on; meanwhile requests are left to the main thread, with no new attempt for a minute', async () => {
    const entry = script(
      'refuses',
      `parentPort.postMessage({ type: 'failed', key: 'startup.store.bad_url', vars: { reason: 'no such scheme' }, message: 'x' });`,
    );
    const { logger, lines } = logCapture();
    const thread = new SlackWorkThread({ entry, init: { config }, logger, defaultLocale: 'en' });
    const err = await thread.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).render('nl')).toBe(t('nl', 'startup.store.bad_url', { reason: 'no such scheme' }));
    const told: string[] = [];
    expect(
      await thread.run(
        command,
        async (text) => void told.push(text),
        () => undefined,
      ),
    ).toBe('unavailable');
    expect(
      await thread.run(
        command,
        async (text) => void told.push(text),
        () => undefined,
      ),
    ).toBe('unavailable');
    expect(told).toEqual([]); // nothing ran there: the caller does the work itself
    const failures = lines.filter((l) => l.msg === 'the Slack work thread could not start; Slack work runs in the main thread until it does');
    expect(failures).toHaveLength(1); // one attempt, not one per request
    expect(failures[0]).toMatchObject({ level: 'error', retryInSeconds: 60 });
  });

  it('hands a click over without the clicked message (the work renders the stored rollout)', () => {
    const body = { type: 'block_actions', actions: [{ action_id: 'mark_done' }], message: { blocks: [{ type: 'section' }] }, user: { id: 'U1' } };
    const slim = slimWork({ kind: 'action', body: body as never });
    expect(slim).toEqual({ kind: 'action', body: { type: 'block_actions', actions: [{ action_id: 'mark_done' }], user: { id: 'U1' } } });
    expect(slimWork(command)).toBe(command);
  });

  it('BWPREP_SLACK_WORK_THREAD: auto falls back to one thread where a second cannot work; on refuses to start there, saying why', () => {
    const memory = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-0000-fake', SLACK_SIGNING_SECRET: 'fake-signing-secret-0000', BWPREP_STORE_URL: 'sqlite://:memory:' });
    expect(workThreadEntry(memory, { storeHandedIn: false, entry: __filename })).toBeUndefined();
    expect(workThreadEntry(config, { storeHandedIn: true, entry: __filename })).toBeUndefined();
    expect(workThreadEntry(config, { storeHandedIn: false, entry: path.join(dir, 'absent.js') })).toBeUndefined();
    expect(workThreadEntry(config, { storeHandedIn: false, entry: __filename })).toBe(__filename);
    const on = (c: typeof config) => ({ ...c, slack: { ...c.slack!, workThread: 'on' as const } });
    for (const [c, opts, reason] of [
      [on(memory), { storeHandedIn: false, entry: __filename }, 'store_in_memory'],
      [on(config), { storeHandedIn: true, entry: __filename }, 'store_in_process'],
      [on(config), { storeHandedIn: false, entry: path.join(dir, 'absent.js') }, 'not_built'],
    ] as const) {
      const e = (() => {
        try {
          workThreadEntry(c, opts);
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(StartupError);
      expect((e as StartupError).key).toBe(`startup.slack.work_thread_unavailable.${reason}`);
      for (const locale of ['en', 'nl'] as const) expect((e as StartupError).render(locale)).toContain('BWPREP_SLACK_WORK_THREAD');
    }
    const off = { ...config, slack: { ...config.slack!, workThread: 'off' as const } };
    expect(workThreadEntry(off, { storeHandedIn: false, entry: __filename })).toBeUndefined();
  });
});
