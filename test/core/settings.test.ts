import { describe, expect, it } from 'vitest';
import { validateSetup } from '../../src/core/checklist/settings';
import { render } from '../../src/i18n';
import { SETTINGS as current } from './harness';

describe('setup: required policies', () => {
  it('accepts Bitwarden policy types, deduplicated and sorted', () => {
    const r = validateSetup({ desiredPolicies: ['8', '0', '3', '0'] }, current, new Date('2026-11-25T09:00:00Z'));
    expect(r.errors).toEqual({});
    expect(r.patch.desiredPolicies).toEqual([0, 3, 8]);
  });

  it('refuses a policy type Bitwarden does not have, names it and the known ones, and changes nothing', () => {
    const r = validateSetup({ desiredPolicies: ['0', '1', '999'] }, current, new Date('2026-11-25T09:00:00Z'));
    expect(r.patch.desiredPolicies).toBeUndefined();
    const text = render('nl', r.errors.desiredPolicies!);
    expect(text).toContain('"999" is geen Bitwarden-beleid dat bwprep kent');
    expect(text).toContain('0, 1, 2, 3');
  });
});
