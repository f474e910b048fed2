import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ConversationRef, Rollout } from '../../src/core/checklist/model';
import { hasConversation } from '../../src/core/checklist/model';
import { validateTemplate } from '../../src/core/checklist/template';
import { BwprepError, isBwprepError } from '../../src/core/errors';
import { localDate } from '../../src/core/time';
import { BUILT_IN_TEMPLATE } from '../../src/templates';

type Raw = { steps: Record<string, any>[]; phases: unknown[] } & Record<string, any>;
const raw = () => JSON.parse(readFileSync(BUILT_IN_TEMPLATE, 'utf8')) as Raw;

function problems(data: unknown) {
  const r = validateTemplate(data);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
}

const MISSING_TOP = [
  { path: 'id', message: 'Invalid input: expected string, received undefined', issue: { code: 'required' } },
  { path: 'version', message: 'Invalid input: expected number, received undefined', issue: { code: 'required' } },
  { path: 'name', message: 'Invalid input: expected object, received undefined', issue: { code: 'required' } },
  { path: 'phases', message: 'Invalid input: expected array, received undefined', issue: { code: 'required' } },
];

describe('template edges: the root', () => {
  it('undefined is "required", null and a number are the wrong type', () => {
    expect(problems(undefined)).toStrictEqual([{ path: '(root)', message: 'Invalid input: expected object, received undefined', issue: { code: 'required' } }]);
    expect(problems(null)).toStrictEqual([
      { path: '(root)', message: 'Invalid input: expected object, received null', issue: { code: 'invalid_type', expected: 'object' } },
    ]);
    expect(problems(42)).toStrictEqual([
      { path: '(root)', message: 'Invalid input: expected object, received number', issue: { code: 'invalid_type', expected: 'object' } },
    ]);
  });

  it('an empty object names every missing field', () => {
    expect(problems({})).toStrictEqual([
      ...MISSING_TOP,
      { path: 'steps', message: 'Invalid input: expected array, received undefined', issue: { code: 'required' } },
    ]);
  });

  it('steps that are not a list are the wrong type, not missing', () => {
    expect(problems({ steps: 'x' })).toStrictEqual([
      ...MISSING_TOP,
      { path: 'steps', message: 'Invalid input: expected array, received string', issue: { code: 'invalid_type', expected: 'array' } },
    ]);
  });

  it('steps that are null or not objects are reported per step', () => {
    const p = problems({ steps: [null, 5] });
    expect(p.filter((x) => x.path.startsWith('steps'))).toStrictEqual([
      { path: 'steps[0]', message: 'Invalid input: expected object, received null', issue: { code: 'invalid_type', expected: 'object' } },
      { path: 'steps[1]', message: 'Invalid input: expected object, received number', issue: { code: 'invalid_type', expected: 'object' } },
    ]);
  });
});

describe('template edges: one broken field of a step', () => {
  const cases: [string, (t: Raw) => void, unknown[]][] = [
    [
      'missing phase',
      (t) => delete t.steps[0]!.phase,
      [{ path: 'steps[0].phase', message: 'Invalid input: expected number, received undefined', issue: { code: 'required' } }],
    ],
    [
      'phase as text',
      (t) => (t.steps[0]!.phase = 'one'),
      [{ path: 'steps[0].phase', message: 'Invalid input: expected number, received string', issue: { code: 'invalid_type', expected: 'number' } }],
    ],
    [
      'phase null',
      (t) => (t.steps[0]!.phase = null),
      [{ path: 'steps[0].phase', message: 'Invalid input: expected number, received null', issue: { code: 'invalid_type', expected: 'number' } }],
    ],
    [
      'phase 1.5 (also not listed)',
      (t) => (t.steps[0]!.phase = 1.5),
      [
        {
          path: 'steps[0].phase',
          message: 'Invalid input: expected int, received number',
          issue: { code: 'invalid_type', expected: 'int', format: 'safeint' },
        },
        { path: 'steps[0].phase', message: 'phase 1.5 is not listed under "phases"', issue: { code: 'phase_not_listed', phase: 1.5 } },
      ],
    ],
    [
      'phase -1 (also not listed)',
      (t) => (t.steps[0]!.phase = -1),
      [
        {
          path: 'steps[0].phase',
          message: 'Too small: expected number to be >0',
          issue: { code: 'too_small', origin: 'number', inclusive: false, minimum: 0 },
        },
        { path: 'steps[0].phase', message: 'phase -1 is not listed under "phases"', issue: { code: 'phase_not_listed', phase: -1 } },
      ],
    ],
    [
      'missing title',
      (t) => delete t.steps[0]!.title,
      [{ path: 'steps[0].title', message: 'Invalid input: expected object, received undefined', issue: { code: 'required' } }],
    ],
    [
      'missing Dutch title',
      (t) => delete t.steps[0]!.title.nl,
      [{ path: 'steps[0].title.nl', message: 'Invalid input: expected string, received undefined', issue: { code: 'required' } }],
    ],
    [
      'unknown appliesTo',
      (t) => (t.steps[0]!.appliesTo = 'moon'),
      [
        {
          path: 'steps[0].appliesTo',
          message: 'Invalid option: expected one of "all"|"self-hosted"|"cloud"',
          issue: { code: 'invalid_value', values: ['all', 'self-hosted', 'cloud'] },
        },
      ],
    ],
    // An enum field that is absent is zod's invalid_value, but the author should read "required", not "not one of".
    [
      'missing appliesTo',
      (t) => delete t.steps[0]!.appliesTo,
      [{ path: 'steps[0].appliesTo', message: 'Invalid option: expected one of "all"|"self-hosted"|"cloud"', issue: { code: 'required' } }],
    ],
    [
      'missing check',
      (t) => delete t.steps[0]!.check,
      [{ path: 'steps[0].check', message: 'Invalid option: expected one of "api"|"partial"|"manual"', issue: { code: 'required' } }],
    ],
    [
      'version 0',
      (t) => (t.version = 0),
      [{ path: 'version', message: 'Too small: expected number to be >0', issue: { code: 'too_small', origin: 'number', inclusive: false, minimum: 0 } }],
    ],
  ];

  it.each(cases)('%s', (_name, breakIt, expected) => {
    const t = raw();
    breakIt(t);
    expect(problems(t)).toStrictEqual(expected);
  });

  it('no phases: a minimum of one, and every step’s phase is unlisted', () => {
    const t = raw();
    t.phases = [];
    const p = problems(t);
    expect(p[0]).toStrictEqual({
      path: 'phases',
      message: 'Too small: expected array to have >=1 items',
      issue: { code: 'too_small', origin: 'array', inclusive: true, minimum: 1 },
    });
    expect(p.slice(1).map((x) => x.path)).toStrictEqual(t.steps.map((_s, i) => `steps[${i}].phase`));
    expect(p[1]).toStrictEqual({ path: 'steps[0].phase', message: 'phase 1 is not listed under "phases"', issue: { code: 'phase_not_listed', phase: 1 } });
  });

  it('an id used three times is reported at each repeat, next to a shape problem', () => {
    const t = raw();
    t.steps[1]!.id = '1a';
    t.steps[2]!.id = '1a';
    t.name = 'x';
    expect(problems(t)).toStrictEqual([
      { path: 'name', message: 'Invalid input: expected object, received string', issue: { code: 'invalid_type', expected: 'object' } },
      { path: 'steps[1].id', message: 'step id "1a" is used twice', issue: { code: 'duplicate_id', id: '1a' } },
      { path: 'steps[2].id', message: 'step id "1a" is used twice', issue: { code: 'duplicate_id', id: '1a' } },
    ]);
  });

  it('an id used three times in an otherwise valid template is reported once per repeat', () => {
    const t = raw();
    t.steps[1]!.id = '1a';
    t.steps[2]!.id = '1a';
    expect(problems(t)).toStrictEqual([
      { path: 'steps[1].id', message: 'step id "1a" is used twice', issue: { code: 'duplicate_id', id: '1a' } },
      { path: 'steps[2].id', message: 'step id "1a" is used twice', issue: { code: 'duplicate_id', id: '1a' } },
    ]);
  });
});

describe('BwprepError', () => {
  it('carries its code, message key, name and cause', () => {
    const cause = new Error('socket hang up');
    const e = new BwprepError('bitwarden_unavailable', { key: 'error.bitwarden_unavailable' }, { cause });
    expect(e.message).toBe('bitwarden_unavailable: error.bitwarden_unavailable');
    expect(e.name).toBe('BwprepError');
    expect(e.code).toBe('bitwarden_unavailable');
    expect(e.userMessage).toStrictEqual({ key: 'error.bitwarden_unavailable' });
    expect(e.cause).toBe(cause);
    expect(e).toBeInstanceOf(Error);
  });

  it('uses the detail as message when given, and has no cause without one', () => {
    const e = new BwprepError('internal', { key: 'error.internal' }, { detail: 'store corrupt' });
    expect(e.message).toBe('store corrupt');
    expect('cause' in e).toBe(false);
  });

  it.each<[string, unknown, boolean]>([
    ['a BwprepError', new BwprepError('forbidden', { key: 'error.forbidden' }), true],
    ['an error-like object named BwprepError (another module copy)', { name: 'BwprepError', code: 'forbidden' }, true],
    ['a plain Error', new Error('x'), false],
    ['an object with another name', { name: 'TypeError' }, false],
    ['an empty object', {}, false],
    ['null', null, false],
    ['undefined', undefined, false],
    ['the string BwprepError', 'BwprepError', false],
    ['a function named BwprepError', function BwprepError() {}, false],
  ])('isBwprepError(%s) is %s', (_name, value, expected) => {
    expect(isBwprepError(value)).toBe(expected);
  });
});

describe('localDate', () => {
  it.each([
    ['2026-11-25T10:30:00Z', 'Pacific/Kiritimati', '2026-11-26'], // UTC+14
    ['2026-11-25T10:30:00Z', 'Pacific/Pago_Pago', '2026-11-24'], // UTC-11
    ['2026-11-25T10:30:00Z', 'UTC', '2026-11-25'],
    ['2026-11-25T23:30:00Z', 'Europe/Amsterdam', '2026-11-26'],
  ])('%s in %s is %s (also on the cached second call)', (at, tz, day) => {
    expect(localDate(new Date(at), tz)).toBe(day);
    expect(localDate(new Date(at), tz)).toBe(day);
  });
});

describe('hasConversation', () => {
  const home: ConversationRef = { platform: 'slack', workspace: 'T1', channel: 'C1' };
  const linked: ConversationRef = { platform: 'teams', workspace: 'tenant', channel: '19:abc' };
  const r: Pick<Rollout, 'conversation' | 'links'> = {
    conversation: home,
    links: [{ conversation: linked, linkedAt: '2026-11-25T09:00:00Z', linkedBy: 'slack:U0ADA' }],
  };
  const named: ConversationRef = { ...home, name: 'general' };

  it('knows the home conversation, linked ones, and nothing else', () => {
    expect(hasConversation(r, named)).toBe(true);
    expect(hasConversation({ conversation: home }, home)).toBe(true);
    expect(hasConversation(r, linked)).toBe(true);
    expect(hasConversation(r, { ...home, channel: 'C2' })).toBe(false);
    expect(hasConversation(r, { ...home, platform: 'teams' })).toBe(false);
  });
});
