import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, parseCommand } from '../../src/commands/parse';
import { parseDigestTime } from '../../src/config/schema';
import { resolveSlackMention } from '../../src/slack/context';
import { parseStoreUrl } from '../../src/store/url';
import { decodeStepRef, encodeStepRef } from '../../src/views/actions';
import { RUNS, refusesLocalized } from './localized';

/** Text that looks like a command often enough to reach every branch: a command word or alias, then odd arguments. */
const WORDS = [...COMMAND_NAMES, 'hulp', '?', 'mijn', 'toewijzen', 'klaar', 'heropen', 'overslaan', 'deadline', 'taal', 'exporteer', 'list', 'HELP', 'Done'];
const token = fc.oneof(
  fc.constantFrom(
    '1a',
    '2b',
    '4e',
    '99z',
    'none',
    'geen',
    '-',
    'nl',
    'en',
    'csv',
    'md',
    'json',
    'xml',
    '<@U0BOB>',
    '<@U0BOB|bob>',
    '<@>',
    '<@U0BOB',
    '2026-12-01',
    '31-12-2026',
    '\u00a0',
    '@',
  ),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ maxLength: 8 }),
);
const commandText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc
    .tuple(fc.constantFrom(...WORDS), fc.array(token, { maxLength: 5 }), fc.constantFrom(' ', '  ', '\t', '\u00a0', '\n'))
    .map(([w, args, sep]) => [w, ...args].join(sep)),
);

describe('fuzz: the command parser', () => {
  it('returns a known command or refuses with a localized message and usage, for any text', () => {
    fc.assert(
      fc.property(commandText, (text) => {
        const cmd = refusesLocalized(() => parseCommand(text, { resolveUser: resolveSlackMention }));
        if (cmd) expect(COMMAND_NAMES).toContain(cmd.name);
      }),
      RUNS(600),
    );
  });

  // The property above holds for a parser that refuses everything: every well-formed value must parse too.
  it('accepts every HH:mm with optional weekdays and ranges, and reads them right', () => {
    const NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    const day = fc.integer({ min: 1, max: 7 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.array(fc.tuple(day, fc.option(day)), { maxLength: 4 }),
        (h, m, parts) => {
          const time = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
          const text = [time, parts.map(([a, b]) => (b === null ? NAMES[a - 1] : `${NAMES[a - 1]}-${NAMES[b - 1]}`)).join(',')].join(' ');
          const r = parseDigestTime(text);
          expect(r, text).toBeDefined();
          expect(r!.time).toBe(time);
          const expected = new Set<number>();
          for (const [a, b] of parts)
            for (let d = a; ; d = (d % 7) + 1) {
              expected.add(d);
              if (d === (b ?? a)) break;
            }
          expect(r!.weekdays, text).toEqual(parts.length ? [...expected].sort((x, y) => x - y) : [1, 2, 3, 4, 5]);
        },
      ),
      RUNS(300),
    );
  });
});

describe('fuzz: Slack button values (step@rollout)', () => {
  it('decodes to undefined or to a ref that encodes back to the same value', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }), { nil: undefined }), (v) => {
        const ref = decodeStepRef(v);
        if (ref) {
          expect(ref.stepId.length).toBeGreaterThan(0);
          expect(ref.rolloutId.length).toBeGreaterThan(0);
          expect(encodeStepRef(ref.rolloutId, ref.stepId)).toBe(v);
        }
      }),
      RUNS(500),
    );
  });

  it('round-trips every step id and rollout id without "@" in the step', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 6 }).filter((s) => !s.includes('@')),
        fc.string({ minLength: 1, maxLength: 40 }),
        (step, rollout) => {
          expect(decodeStepRef(encodeStepRef(rollout, step))).toEqual({ stepId: step, rolloutId: rollout });
        },
      ),
      RUNS(300),
    );
  });
});

describe('fuzz: the digest-time parser (BWPREP_DIGEST_TIME)', () => {
  const days = fc.constantFrom('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'Monday', 'FRI', 'xyz', '');
  const input = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc
      .tuple(
        fc.integer({ min: -1, max: 25 }),
        fc.integer({ min: -1, max: 61 }),
        fc.array(fc.tuple(days, fc.option(days)), { maxLength: 4 }),
        fc.constantFrom(',', ', ', ' , '),
      )
      .map(
        ([h, m, parts, sep]) =>
          `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')} ${parts.map(([a, b]) => (b === null ? a : `${a}-${b}`)).join(sep)}`,
      ),
  );
  it('returns undefined or an HH:mm time and a sorted, non-empty set of ISO weekdays; never throws', () => {
    fc.assert(
      fc.property(input, (v) => {
        const r = parseDigestTime(v);
        if (!r) return;
        expect(r.time).toMatch(/^([01]\d|2[0-3]):[0-5]\d$/);
        expect(r.weekdays.length).toBeGreaterThan(0);
        expect(r.weekdays).toEqual([...new Set(r.weekdays)].sort((a, b) => a - b));
        for (const d of r.weekdays) expect(d >= 1 && d <= 7).toBe(true);
      }),
      RUNS(600),
    );
  });
});

describe('fuzz: the store URL parser (BWPREP_STORE_URL)', () => {
  const url = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc
      .tuple(fc.constantFrom('sqlite://', 'redis://', 'rediss://', 'postgres://', 'postgresql://', 'REDIS://', 'mysql://'), fc.string({ maxLength: 30 }))
      .map(([s, r]) => s + r),
    fc
      .tuple(
        fc.constantFrom('redis://', 'postgres://'),
        fc.constantFrom('', 'user@', 'user:p%40ss@', 'u:%E0%A4%A@', ':@', '%@'),
        fc.constantFrom('127.0.0.1', 'localhost', '[::1]', '[', 'host name', ''),
        fc.constantFrom('', ':6379', ':0', ':99999', ':abc'),
        fc.constantFrom('', '/0', '/15', '/-1', '/x', '/db'),
        fc.constantFrom('', '?prefix=t:', '?schema=bwprep_t', '?schema=bad-name', '?sslmode=disable'),
      )
      .map((p) => p.join('')),
  );
  it('returns a parsed URL or throws an Error that says "store URL: …", never a TypeError or URIError', () => {
    fc.assert(
      fc.property(url, (raw) => {
        try {
          const r = parseStoreUrl(raw);
          expect(['sqlite', 'redis', 'postgres']).toContain(r.kind);
          expect(r.description).not.toMatch(/p%40ss|p@ss/);
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).constructor).toBe(Error);
          expect((e as Error).message).toMatch(/^store URL/);
        }
      }),
      RUNS(600),
    );
  });
});
