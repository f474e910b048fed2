import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findStep, validateTemplate } from '../../src/core/checklist/template';
import { BUILT_IN_TEMPLATE } from '../../src/templates';

const raw = () => JSON.parse(readFileSync(BUILT_IN_TEMPLATE, 'utf8')) as { steps: Record<string, unknown>[]; phases: unknown[] } & Record<string, unknown>;

describe('the built-in template', () => {
  it('validates', () => {
    const r = validateTemplate(raw());
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  it('holds the 14 steps of the article, in order, in 6 phases, each with a help link and text in both languages', () => {
    const r = validateTemplate(raw());
    if (!r.ok) throw new Error('invalid');
    expect(r.template.steps.map((s) => s.id)).toEqual(['1a', '2a', '2b', '3a', '3b', '3c', '4a', '4b', '4c', '4d', '4e', '5a', '5b', '6']);
    expect(r.template.phases.map((p) => p.id)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const s of r.template.steps) {
      expect(s.helpUrl).toMatch(/^https:\/\/bitwarden\.com\/help\//);
      expect(s.title.nl).not.toBe(s.title.en);
    }
    expect(r.template.steps.filter((s) => s.appliesTo === 'self-hosted').map((s) => s.id)).toEqual(['3a', '3b', '3c', '5a']);
  });

  it('finds steps case-insensitively and ignores surrounding spaces', () => {
    const r = validateTemplate(raw());
    if (!r.ok) throw new Error('invalid');
    expect(findStep(r.template, ' 4E ')?.id).toBe('4e');
    expect(findStep(r.template, '7')).toBeUndefined();
  });
});

describe('validateTemplate on a broken template', () => {
  function broken() {
    const t = raw();
    const steps = t.steps as Record<string, any>[];
    steps[2]!.id = '2a'; // duplicate of step [1]
    delete steps[0]!.title.nl; // missing Dutch title
    steps[3]!.phase = 9; // not listed under phases
    steps[4]!.helpUrl = 'bitwarden help page'; // not a URL
    return t;
  }

  it('explains every problem at once, each with a readable path', () => {
    const r = validateTemplate(broken());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byPath = Object.fromEntries(r.problems.map((p) => [p.path, p.message]));
    // Shape problems and cross-step problems together: an author fixes the file in one pass.
    expect(Object.keys(byPath).sort()).toEqual(['steps[0].title.nl', 'steps[2].id', 'steps[3].phase', 'steps[4].helpUrl']);
    expect(byPath['steps[0].title.nl']).toMatch(/expected string|required/i);
    expect(byPath['steps[2].id']).toBe('step id "2a" is used twice');
    expect(byPath['steps[3].phase']).toBe('phase 9 is not listed under "phases"');
    expect(byPath['steps[4].helpUrl']).toMatch(/url/i);
  });

  it('reports duplicate ids and unknown phases', () => {
    const t = raw();
    const steps = t.steps as Record<string, any>[];
    steps[2]!.id = '2a';
    steps[3]!.phase = 9;
    const r = validateTemplate(t);
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toEqual([
      { path: 'steps[2].id', message: 'step id "2a" is used twice', issue: { code: 'duplicate_id', id: '2a' } },
      { path: 'steps[3].phase', message: 'phase 9 is not listed under "phases"', issue: { code: 'phase_not_listed', phase: 9 } },
    ]);
  });

  it('says what a step id must look like', () => {
    const t = raw();
    (t.steps[0] as Record<string, unknown>).id = 'step one';
    const r = validateTemplate(t);
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toEqual([
      {
        path: 'steps[0].id',
        message: 'a step id is a number with an optional letter, like 2a or 6',
        issue: { code: 'invalid_format', origin: 'string', format: 'regex' },
      },
    ]);
  });

  it('rejects unknown fields (typos) and negative hours', () => {
    const t = raw();
    (t.steps[1] as Record<string, unknown>).hour = 1;
    (t.steps[2] as Record<string, unknown>).hours = -1;
    const r = validateTemplate(t);
    if (r.ok) throw new Error('expected problems');
    expect(r.problems.map((p) => p.path).sort()).toEqual(['steps[1]', 'steps[2].hours']);
    expect(r.problems.find((p) => p.path === 'steps[1]')?.message).toContain('hour');
  });

  it('reports a non-object at the root', () => {
    const r = validateTemplate([]);
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.path).toBe('(root)');
  });
});
