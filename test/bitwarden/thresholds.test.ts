import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../src/core/checklist/model';
import { FakeBitwardenServer } from '../fakes/bitwarden-server';
import { readyOrg } from '../fixtures/bitwarden';
import { credentialsOf, makeVerification, NOW, settingsFor } from './helpers';

let server: FakeBitwardenServer;
beforeAll(async () => {
  server = await new FakeBitwardenServer().start();
});
afterAll(async () => {
  await server.stop();
});

describe('per-rollout thresholds change the verdicts', () => {
  it('the ready org passes 5b, 6 and 4d on the defaults and not on stricter thresholds', async () => {
    server.load(readyOrg(NOW));
    const h = makeVerification(server, 'cloud-us');
    const verify = (thresholds: typeof DEFAULT_THRESHOLDS) =>
      h.verification.verify({
        rolloutId: 't',
        settings: { ...settingsFor('cloud-us'), thresholds },
        credentials: credentialsOf(server),
        stepIds: ['4d', '5b', '6'],
      });
    const loose = await verify(DEFAULT_THRESHOLDS);
    expect([loose['4d']!.status, loose['5b']!.status, loose['6']!.status]).toEqual(['pass', 'pass', 'pass']);
    // 85 % extension adoption, 95,2 % confirmed, 3 confirmed owners in the ready org.
    const strict = await verify({ extensionPassPct: 90, onboardingPassPct: 99, onboardingWarnPct: 50, minOwners: 4 });
    expect(strict['5b']!.status).toBe('warn');
    expect(strict['6']!.status).toBe('warn');
    expect(strict['4d']!.status).not.toBe('pass');
    expect(strict['5b']!.evidence.counts).toMatchObject({ targetPct: 90 });
  });
});
