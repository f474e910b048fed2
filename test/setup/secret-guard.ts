import { afterAll, afterEach } from 'vitest';
import { type SecretHit, secretGuard } from '../helpers/secret-guard';

/** Vitest setup file: any secret seen in a log line or a call to a fake fails the test (or the file, for hooks). */
const fail = (hits: SecretHit[], when: string) => {
  if (hits.length === 0) return;
  const list = hits
    .slice(0, 5)
    .map((h) => `  ${h.source}: …${h.excerpt}…`)
    .join('\n');
  throw new Error(`secret guard: ${hits.length} secret value(s) left the app ${when}:\n${list}`);
};

afterEach((ctx) => fail(secretGuard.take(), `during "${ctx.task.name}"`));
afterAll(() => fail(secretGuard.take(), 'in a hook of this file'));
