import { randomUUID } from 'node:crypto';
import { DEFAULT_DESIRED_POLICIES, DEFAULT_THRESHOLDS, type AuditAction, type AuditEntry, type Rollout } from '../../src/core/checklist/model';

export function uniqueId(label = 'r'): string {
  return `slack:T${label}:C${randomUUID()}`;
}

export function makeRollout(id = uniqueId(), overrides: Partial<Rollout> = {}): Rollout {
  const at = '2026-11-25T09:00:00.000Z';
  return {
    id,
    conversation: { platform: 'slack', workspace: 'T1', channel: id.split(':').pop() ?? 'C1', name: 'bitwarden-rollout' },
    templateId: 'bitwarden-trial-to-production',
    templateVersion: 1,
    settings: {
      locale: 'nl',
      hosting: 'cloud-eu',
      timezone: 'Europe/Amsterdam',
      digestTime: '09:00',
      weekdays: [1, 2, 3, 4, 5],
      admins: ['slack:UADMIN'],
      desiredPolicies: [...DEFAULT_DESIRED_POLICIES],
      thresholds: { ...DEFAULT_THRESHOLDS },
      digestEnabled: true,
    },
    steps: {
      '1a': { id: '1a', state: 'open', updatedAt: at },
      '2a': { id: '2a', state: 'open', updatedAt: at },
    },
    digest: { history: [] },
    createdAt: at,
    createdBy: 'slack:UADMIN',
    version: 0,
    ...overrides,
  };
}

export function entry(rolloutId: string, action: AuditAction = 'step.done', extra: Partial<AuditEntry> = {}): AuditEntry {
  return { rolloutId, at: new Date().toISOString(), actor: 'slack:U1', surface: 'slack', action, ...extra };
}
