import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeCommand } from '../../src/commands/execute';
import type { Rollout } from '../../src/core/checklist/model';
import { ADMIN, type Harness, makeHarness, TEMPLATE } from '../core/harness';

let h: Harness;
let rollout: Rollout;
beforeAll(async () => {
  h = await makeHarness('sqlite');
  rollout = await h.rollout();
});
afterAll(async () => {
  await h.close();
});

describe('check', () => {
  it('refuses an unknown step at once, listing the steps there are', async () => {
    const err = await executeCommand(h.service, rollout, { name: 'check', step: '9z' }, ADMIN).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'unknown_step',
      userMessage: { key: 'error.unknown_step', vars: { step: '9z', steps: TEMPLATE.steps.map((s) => s.id).join(', ') } },
    });
  });

  it('hands a known step, or no step, to the check service', async () => {
    expect(await executeCommand(h.service, rollout, { name: 'check', step: '2A' }, ADMIN)).toEqual({
      kind: 'delegate',
      rollout,
      command: { name: 'check', step: '2A' },
    });
    expect(await executeCommand(h.service, rollout, { name: 'check' }, ADMIN)).toEqual({ kind: 'delegate', rollout, command: { name: 'check' } });
  });
});
