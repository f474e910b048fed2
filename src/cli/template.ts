import type { Locale } from '../core/checklist/model';
import { totalHours } from '../core/checklist/readiness';
import { formatHours, isLocale, t } from '../i18n';
import { describeProblem, readTemplateFile } from '../templates';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Reads a file as UTF-8 (tests replace it; default fs.readFileSync). */
  readFile?: (file: string) => string;
}

/** The CLI's language: `--lang`, else BWPREP_LOCALE, else Dutch (the project default). */
export function cliLocale(env: NodeJS.ProcessEnv, lang?: string): Locale {
  if (isLocale(lang)) return lang;
  return isLocale(env.BWPREP_LOCALE) ? env.BWPREP_LOCALE : 'nl';
}

/**
 * `bwprep template validate <file> [--lang nl|en]`. Exit 0: the template is valid (prints its step count
 * and hours); 1: it has problems (each a plain sentence that names where, e.g. "steps[3].hours is
 * required."); 2: bad usage, or the file cannot be read or is not JSON. Every line is in one language.
 */
export function runTemplateValidate(argv: string[], io: CliIo): number {
  let lang: string | undefined;
  const files: string[] = [];
  const unknown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--lang') lang = argv[++i] ?? '';
    else if (a.startsWith('--lang=')) lang = a.slice('--lang='.length);
    else if (a.startsWith('-') && a !== '-') unknown.push(a);
    else files.push(a);
  }
  const locale = cliLocale(io.env, lang);
  const tr = (key: string, vars?: Record<string, string | number>) => t(locale, key, vars);
  if (lang !== undefined && !isLocale(lang)) {
    io.stderr(`${tr('cli.bad_lang', { lang })}\n${tr('cli.template.usage')}\n`);
    return 2;
  }
  if (unknown.length) {
    io.stderr(`${tr('cli.unknown_option', { option: unknown[0]! })}\n${tr('cli.template.usage')}\n`);
    return 2;
  }
  const file = files[0];
  if (!file || files.length > 1) {
    io.stderr(`${tr(file ? 'cli.template.one_file' : 'cli.template.no_file')}\n${tr('cli.template.usage')}\n`);
    return 2;
  }

  const r = readTemplateFile(file, io.readFile);
  if (!r.ok && r.reason === 'invalid') {
    const lines = [tr('cli.template.invalid', r.vars), ...r.problems.map((p) => `  ${describeProblem(locale, p)}`)];
    io.stdout(`${lines.join('\n')}\n`);
    return 1;
  }
  if (!r.ok) {
    io.stderr(`${tr(`cli.template.${r.reason}`, r.vars)}\n`);
    return 2;
  }
  const tpl = r.template;
  const unestimated = tpl.steps.filter((s) => s.hours === null).length;
  const lines = [
    `✔ ${tr('cli.template.ok', { file, name: tpl.name[locale], id: tpl.id, version: tpl.version, steps: tpl.steps.length, phases: tpl.phases.length })}`,
    `  ${tr('cli.template.hours', { selfHosted: formatHours(locale, totalHours(tpl, 'self-hosted')), cloud: formatHours(locale, totalHours(tpl, 'cloud-us')) })}`,
    ...(unestimated ? [`  ${tr('cli.template.unestimated', { count: unestimated })}`] : []),
    `  ${tr('cli.template.use', { file })}`,
  ];
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}
