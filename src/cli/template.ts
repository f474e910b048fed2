import { readFileSync } from 'node:fs';
import type { Locale } from '../core/checklist/model';
import { totalHours } from '../core/checklist/readiness';
import { validateTemplate } from '../core/checklist/template';
import { formatHours, isLocale, t } from '../i18n';

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

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * `bwprep template validate <file> [--lang nl|en]`. Exit 0: the template is valid (prints its step count
 * and hours); 1: it has problems (each as `path: message`); 2: bad usage, or the file cannot be read or is
 * not JSON.
 */
export function runTemplateValidate(argv: string[], io: CliIo): number {
  let lang: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--lang') lang = argv[++i] ?? '';
    else if (a.startsWith('--lang=')) lang = a.slice('--lang='.length);
    else files.push(a);
  }
  const locale = cliLocale(io.env, lang);
  const tr = (key: string, vars?: Record<string, string | number>) => t(locale, key, vars);
  const file = files[0];
  if (!file || files.length > 1 || (lang !== undefined && !isLocale(lang))) {
    io.stderr(`${tr('cli.template.usage')}\n`);
    return 2;
  }

  let text: string;
  try {
    text = (io.readFile ?? ((f: string) => readFileSync(f, 'utf8')))(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | null)?.code;
    const key = code === 'ENOENT' ? 'cli.template.not_found' : code === 'EISDIR' ? 'cli.template.is_directory' : 'cli.template.unreadable';
    io.stderr(`${tr(key, { file, reason: reason(e) })}\n`);
    return 2;
  }
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    io.stderr(`${tr('cli.template.not_json', { file, reason: reason(e) })}\n`);
    return 2;
  }

  const result = validateTemplate(data);
  if (!result.ok) {
    // In file order (steps[2] before steps[10]), whatever order the checks found them in.
    const problems = [...result.problems].sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
    const lines = [tr('cli.template.invalid', { file, count: problems.length }), ...problems.map((p) => `  ${p.path}: ${p.message}`)];
    io.stdout(`${lines.join('\n')}\n`);
    return 1;
  }
  const tpl = result.template;
  const unestimated = tpl.steps.filter((s) => s.hours === null).length;
  const lines = [
    `✔ ${tr('cli.template.ok', { file, name: tpl.name[locale], id: tpl.id, version: tpl.version, steps: tpl.steps.length, phases: tpl.phases.length })}`,
    `  ${tr('cli.template.hours', { selfHosted: formatHours(locale, totalHours(tpl, 'self-hosted')), cloud: formatHours(locale, totalHours(tpl, 'cloud-us')) })}`,
    ...(unestimated ? [`  ${tr('cli.template.unestimated', { count: unestimated })}`] : []),
  ];
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}
