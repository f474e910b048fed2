import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBin, usage, version } from '../../src/cli/bin';
import { type CliIo, runTemplateValidate } from '../../src/cli/template';
import { BUILT_IN_TEMPLATE } from '../../src/templates';

const dir = mkdtempSync(join(tmpdir(), 'bwprep-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(env: NodeJS.ProcessEnv = { BWPREP_LOCALE: 'en' }): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { env, stdout: (s) => void (out += s), stderr: (s) => void (err += s), out: () => out, err: () => err };
}

function write(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

const builtIn = () => JSON.parse(JSON.stringify(require(BUILT_IN_TEMPLATE))) as { steps: Record<string, any>[] } & Record<string, any>;

describe('bwprep template validate', () => {
  it('accepts the built-in template and says how many steps and hours it holds', () => {
    const c = io();
    expect(runTemplateValidate([BUILT_IN_TEMPLATE], c)).toBe(0);
    expect(c.out()).toContain('is a valid template: Bitwarden: trial to production (id bitwarden-trial-to-production, version 1), 14 steps in 6 phases.');
    expect(c.out()).toContain('Estimated time: 7.5 h self-hosted, 5.5 h in the cloud.');
    expect(c.out()).toContain('1 step is not estimated.');
    expect(c.err()).toBe('');
  });

  it('speaks Dutch by default and with --lang nl, with a decimal comma', () => {
    const c = io({});
    expect(runTemplateValidate([BUILT_IN_TEMPLATE], c)).toBe(0);
    expect(c.out()).toContain('is een geldig sjabloon');
    expect(c.out()).toContain('Geschatte tijd: 7,5 uur zelf gehost, 5,5 uur in de cloud.');
    const d = io({ BWPREP_LOCALE: 'en' });
    runTemplateValidate(['--lang', 'nl', BUILT_IN_TEMPLATE], d);
    expect(d.out()).toContain('1 stap is niet geschat.');
  });

  it('lists every problem as a plain sentence that names where, in file order, and exits 1', () => {
    const t = builtIn();
    t.steps[2]!.id = '2a';
    delete t.steps[0]!.title.nl;
    t.steps[3]!.phase = 9;
    t.steps[11]!.helpUrl = 'see the help centre';
    const file = write('broken.json', t);
    const c = io();
    expect(runTemplateValidate([file], c)).toBe(1);
    const lines = c.out().trimEnd().split('\n');
    expect(lines[0]).toBe(`${file} is not a valid template (4 problems):`);
    expect(lines.slice(1)).toEqual([
      '  steps[0].title.nl is required.',
      '  steps[2].id uses step id 2a a second time; every step needs its own id.',
      '  steps[3].phase is 9, but phase 9 is not listed under phases.',
      '  steps[11].helpUrl must be a web address, such as https://bitwarden.com/help/.',
    ]);
  });

  it('uses the singular for one problem', () => {
    const t = builtIn();
    t.version = 0;
    const c = io();
    expect(runTemplateValidate([write('one.json', t)], c)).toBe(1);
    expect(c.out()).toMatch(/is not a valid template \(1 problem\):\n {2}version must be more than 0\.\n$/);
  });

  it('exits 2 when the file does not exist, is a folder, or is not JSON', () => {
    const missing = io();
    expect(runTemplateValidate([join(dir, 'nope.json')], missing)).toBe(2);
    expect(missing.err()).toBe(`${join(dir, 'nope.json')} does not exist.\n`);

    const folder = io();
    expect(runTemplateValidate([dir], folder)).toBe(2);
    expect(folder.err()).toContain('is a folder, not a template file.');

    const notJson = io();
    expect(runTemplateValidate([write('bad.json', '{"id": "x",')], notJson)).toBe(2);
    expect(notJson.err()).toMatch(/bad\.json is not valid JSON: /);
    expect(notJson.out()).toBe('');
  });

  it('accepts a UTF-8 byte-order mark (files saved by Windows editors)', () => {
    const c = io();
    expect(runTemplateValidate([write('bom.json', `\uFEFF${JSON.stringify(builtIn())}`)], c)).toBe(0);
  });

  it('exits 2 with what is wrong and the usage when the file is missing or the language is unknown', () => {
    const cases: [string[], string][] = [
      [[], 'Name the template file to check.'],
      [['a.json', 'b.json'], 'Check one template file at a time.'],
      [['--lang', 'de', BUILT_IN_TEMPLATE], '--lang must be nl or en (you gave "de").'],
      [['--strict', BUILT_IN_TEMPLATE], 'Unknown option "--strict".'],
    ];
    for (const [argv, why] of cases) {
      const c = io();
      expect(runTemplateValidate(argv, c)).toBe(2);
      expect(c.err()).toBe(`${why}\nUsage: bwprep template validate <file> [--lang nl|en]\n`);
    }
  });

  it('explains problems in Dutch with --lang nl, in plain words and never zod’s', () => {
    const t = builtIn();
    delete t.steps[3]!.hours;
    t.steps[5]!.appliesTo = 'moon';
    t.steps[6]!.hour = 2;
    t.version = 'one';
    t.name = { en: 'Custom' };
    const c = io({ BWPREP_LOCALE: 'en' });
    expect(runTemplateValidate(['--lang', 'nl', write('nl.json', t)], c)).toBe(1);
    const out = c.out();
    expect(out).toContain('is geen geldig sjabloon (5 problemen):');
    expect(out).toContain('  version moet een getal zijn.');
    expect(out).toContain('  name.nl is verplicht.');
    expect(out).toContain('  steps[3].hours is verplicht.');
    expect(out).toContain('  steps[5].appliesTo moet all, self-hosted of cloud zijn.');
    expect(out).toContain('  steps[6] heeft een veld dat sjablonen niet kennen: hour.');
    expect(out).not.toMatch(/Invalid|expected|received|Too small|Unrecognized/);
  });

  it('says how to use a valid template', () => {
    const c = io();
    expect(runTemplateValidate([BUILT_IN_TEMPLATE], c)).toBe(0);
    expect(c.out()).toContain(`To use it for new rollouts, set BWPREP_TEMPLATE=${BUILT_IN_TEMPLATE} and start bwprep again.`);
  });
});

describe('bwprep (bin)', () => {
  it('routes template validate, help and version without loading the bot', async () => {
    const c = io();
    expect(await runBin(['template', 'validate', BUILT_IN_TEMPLATE], c)).toBe(0);
    expect(c.out()).toContain('14 steps in 6 phases');

    const h = io();
    expect(await runBin(['--help'], h)).toBe(0);
    expect(h.out()).toBe(`${usage({ BWPREP_LOCALE: 'en' })}\n`);
    for (const cmd of ['bwprep [serve]', 'bwprep check [--step ID] [--json] [--lang nl|en]', 'bwprep template validate <file>', 'bwprep --version'])
      expect(h.out()).toContain(cmd);
    expect(
      h
        .out()
        .split('\n')
        .every((l) => l.length <= 100),
    ).toBe(true);

    const v = io();
    expect(await runBin(['--version'], v)).toBe(0);
    expect(v.out()).toBe(`bwprep ${version()}\n`);
    expect(version()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses an unknown command or template subcommand with exit 2', async () => {
    const c = io();
    expect(await runBin(['frobnicate'], c)).toBe(2);
    expect(c.err()).toContain('Unknown command "frobnicate".');
    expect(c.err()).toContain('Usage:');
    const d = io();
    expect(await runBin(['template', 'lint', BUILT_IN_TEMPLATE], d)).toBe(2);
    expect(d.err()).toContain('bwprep template validate <file>');
  });

  it('passes check arguments through to the check command', async () => {
    const c = io({ BWPREP_LOCALE: 'en' });
    // An unknown flag is a usage error of `bwprep check` itself (exit 2), before any network access.
    expect(await runBin(['check', '--no-such-flag'], c)).toBe(2);
    expect(c.err()).toContain('bwprep check');
  });

  it('--lang works for every command, wherever it stands, and everything it prints is in that one language', async () => {
    const en = io({ BWPREP_LOCALE: 'nl' });
    expect(await runBin(['--lang', 'en', '--help'], en)).toBe(0);
    expect(en.out()).toBe(`${usage({}, 'en')}\n`);
    expect(en.out()).toContain('Usage:');
    expect(en.out()).not.toContain('Gebruik');

    const nl = io({ BWPREP_LOCALE: 'en' });
    expect(await runBin(['help', '--lang=nl'], nl)).toBe(0);
    expect(nl.out()).toContain('Gebruik:');
    expect(nl.out()).not.toContain('Usage:');

    const unknown = io({ BWPREP_LOCALE: 'en' });
    expect(await runBin(['frobnicate', '--lang', 'nl'], unknown)).toBe(2);
    expect(unknown.err()).toMatch(/^Onbekende opdracht "frobnicate"\.\n\nbwprep: /);
    expect(unknown.err()).toContain('Gebruik:');
    expect(unknown.err()).not.toMatch(/Usage|Unknown/);

    const option = io({ BWPREP_LOCALE: 'nl' });
    expect(await runBin(['--lang', 'en', '--frobnicate'], option)).toBe(2);
    expect(option.err()).toMatch(/^Unknown option "--frobnicate"\.\n/);
    expect(option.err()).not.toContain('Gebruik');

    const serve = io({ BWPREP_LOCALE: 'en' });
    expect(await runBin(['serve', '--port', '80'], serve)).toBe(2);
    expect(serve.err()).toMatch(/^Unknown option "--port"\.\n/);

    const tpl = io({ BWPREP_LOCALE: 'nl' });
    expect(await runBin(['--lang', 'en', 'template', 'validate', BUILT_IN_TEMPLATE], tpl)).toBe(0);
    expect(tpl.out()).toContain('is a valid template');

    const tplHelp = io({ BWPREP_LOCALE: 'nl' });
    expect(await runBin(['template', 'validate', '--help', '--lang', 'en'], tplHelp)).toBe(0);
    expect(tplHelp.out()).toBe('Usage: bwprep template validate <file> [--lang nl|en]\n');

    const bad = io({ BWPREP_LOCALE: 'en' });
    expect(await runBin(['--lang', 'de', '--help'], bad)).toBe(2);
    expect(bad.err()).toMatch(/^--lang must be nl or en \(you gave "de"\)\.\n/);
  });

  it('never tells a terminal user to use a chat command', () => {
    for (const lang of ['en', 'nl'] as const) {
      expect(usage({}, lang)).not.toMatch(/\/bwprep|slash command/i);
      // Everything the binary itself can print: its own texts, start-up and settings errors, template
      // problems, and the Bitwarden errors `bwprep check` shows.
      const catalogue = JSON.parse(readFileSync(join(__dirname, '..', '..', 'locales', `${lang}.json`), 'utf8')) as Record<string, Record<string, unknown>>;
      const texts = [
        catalogue.cli,
        catalogue.startup,
        catalogue.config,
        catalogue.template,
        (catalogue.bw as Record<string, unknown>).error,
        (catalogue.check as Record<string, unknown>).cli,
      ];
      expect(JSON.stringify(texts)).not.toContain('/bwprep');
    }
  });
});
