import { describe, expect, it } from 'vitest';
import { type Command, parseCommand } from '../../src/commands/parse';
import { BwprepError } from '../../src/core/errors';
import { resolveSlackMention } from '../../src/slack/context';

const parse = (text: string): Command => parseCommand(text, { resolveUser: resolveSlackMention });

function refusal(text: string): Pick<BwprepError, 'code' | 'userMessage' | 'usage'> {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof BwprepError) return { code: e.code, userMessage: e.userMessage, usage: e.usage };
    throw e;
  }
  throw new Error(`"${text}" parsed, but should have been refused`);
}

describe('a word that names an Object.prototype property (found by fuzzing)', () => {
  it('is an unknown command, and a Dutch alias lookup reads nothing inherited', () => {
    for (const word of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__']) {
      expect(refusal(word).code).toBe('unknown_command');
      expect(refusal(`${word} 2a`).code).toBe('unknown_command');
    }
    // Dutch aliases still work.
    expect(parse('klaar 2a')).toEqual({ name: 'done', step: '2a' });
  });
});

describe('link and unlink', () => {
  it('asks for a code without one, and takes a code in any case, normalised to upper case', () => {
    expect(parse('link')).toEqual({ name: 'link' });
    expect(parse('link abc-123')).toEqual({ name: 'link', code: 'ABC-123' });
    expect(parse('koppel k7q2mx9d')).toEqual({ name: 'link', code: 'K7Q2MX9D' });
    expect(parse('link ABCDEF123456')).toEqual({ name: 'link', code: 'ABCDEF123456' });
  });

  it('refuses a malformed code, naming it as typed, with the link usage', () => {
    for (const bad of ['abc', 'abcdefghijklm', 'abc_123', 'ABC.123']) {
      expect(refusal(`link ${bad}`), bad).toEqual({
        code: 'bad_usage',
        userMessage: { key: 'error.bad_link_code', vars: { value: bad } },
        usage: { key: 'usage.link' },
      });
    }
  });

  it('unlink takes no argument: anything after it is ignored, even something that looks like a code', () => {
    expect(parse('unlink')).toEqual({ name: 'unlink' });
    expect(parse('unlink ABC-123')).toEqual({ name: 'unlink' });
    expect(parse('ontkoppel nu')).toEqual({ name: 'unlink' });
  });
});

describe('steps without a note', () => {
  it('unassign and reopen ignore words after the step (they carry no note)', () => {
    expect(parse('unassign 2a he left the company')).toEqual({ name: 'unassign', step: '2a' });
    expect(parse('reopen 2b the import failed')).toEqual({ name: 'reopen', step: '2b' });
    expect(parse('heropen 2b opnieuw')).toEqual({ name: 'reopen', step: '2b' });
  });
});

describe('due', () => {
  it.each(['none', 'clear', 'geen', '-', 'NONE', 'Clear', 'GEEN'])('due 2a %s clears the date', (word) => {
    expect(parse(`due 2a ${word}`)).toEqual({ name: 'due', step: '2a', date: null });
  });

  it('passes any other word through as the date', () => {
    expect(parse('due 2a nothing')).toEqual({ name: 'due', step: '2a', date: 'nothing' });
    expect(parse('due 2a --')).toEqual({ name: 'due', step: '2a', date: '--' });
  });
});

describe('lang and export refusals name the value as typed', () => {
  it('lang', () => {
    expect(refusal('lang DE')).toEqual({ code: 'bad_usage', userMessage: { key: 'error.bad_locale', vars: { value: 'DE' } }, usage: { key: 'usage.lang' } });
  });

  it('export', () => {
    expect(refusal('export PDF')).toEqual({
      code: 'bad_usage',
      userMessage: { key: 'error.bad_export', vars: { value: 'PDF' } },
      usage: { key: 'usage.export' },
    });
    expect(refusal('exporteer xlsx')).toEqual({
      code: 'bad_usage',
      userMessage: { key: 'error.bad_export', vars: { value: 'xlsx' } },
      usage: { key: 'usage.export' },
    });
  });
});
