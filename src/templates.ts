import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StartupError } from './config/errors';
import type { Locale } from './core/checklist/model';
import { type Template, type TemplateProblem, validateTemplate } from './core/checklist/template';
import { t } from './i18n';

/** templates/ sits one level above both src/ and dist/. */
const TEMPLATES_DIR = path.resolve(__dirname, '..', 'templates');
export const BUILT_IN_TEMPLATE = path.join(TEMPLATES_DIR, 'prepare-for-production.json');

/**
 * A template file read and validated: the template, or why not. `reason` is an i18n key under
 * `cli.template.*` (`not_found`, `is_directory`, `unreadable`, `not_json`, `invalid`) with its vars;
 * `problems` (for `invalid`) are in file order (steps[2] before steps[10]).
 */
export type TemplateFile =
  | { ok: true; template: Template }
  | { ok: false; reason: 'not_found' | 'is_directory' | 'unreadable' | 'not_json'; vars: { file: string; reason: string } }
  | { ok: false; reason: 'invalid'; vars: { file: string; count: number }; problems: TemplateProblem[] };

export function readTemplateFile(file: string, readFile: (f: string) => string = (f) => readFileSync(f, 'utf8')): TemplateFile {
  let text: string;
  try {
    text = readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | null)?.code;
    const reason = code === 'ENOENT' ? 'not_found' : code === 'EISDIR' ? 'is_directory' : 'unreadable';
    return { ok: false, reason, vars: { file, reason: e instanceof Error ? e.message : String(e) } };
  }
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    return { ok: false, reason: 'not_json', vars: { file, reason: e instanceof Error ? e.message : String(e) } };
  }
  const result = validateTemplate(data);
  if (result.ok) return { ok: true, template: result.template };
  const problems = [...result.problems].sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
  return { ok: false, reason: 'invalid', vars: { file, count: problems.length }, problems };
}

/** Kinds of value the template schema expects, in plain words (`template.problem.type.*`). */
const TYPES = new Set(['string', 'number', 'int', 'array', 'object', 'boolean']);

/**
 * One template problem as a plain sentence in `locale`, naming where it is: "steps[3].hours is required.",
 * "steps[6].appliesTo must be all, self-hosted or cloud." Never zod's wording.
 */
export function describeProblem(locale: Locale, p: TemplateProblem): string {
  const where = p.path === '(root)' ? t(locale, 'template.problem.root') : p.path;
  const i = p.issue;
  const say = (key: string, vars: Record<string, string | number> = {}) => t(locale, `template.problem.${key}`, { path: where, ...vars });
  const list = (xs: readonly string[], type: 'conjunction' | 'disjunction') => new Intl.ListFormat(locale, { type }).format(xs.map(String));
  switch (i.code) {
    case 'required':
      return say('required');
    case 'invalid_type':
      return TYPES.has(String(i.expected)) ? say(`type.${i.expected}`) : say('type.other', { expected: String(i.expected) });
    case 'too_small':
      if (i.origin === 'string') return say('empty');
      if (i.origin === 'array') return say('too_few', { count: i.minimum ?? 1 });
      return say(i.inclusive === false ? 'more_than' : 'at_least', { minimum: i.minimum ?? 0 });
    case 'too_big':
      if (i.origin === 'string' || i.origin === 'array') return say('too_long', { count: i.maximum ?? 0 });
      return say(i.inclusive === false ? 'less_than' : 'at_most', { maximum: i.maximum ?? 0 });
    case 'invalid_format':
      return say(i.format === 'url' ? 'url' : /(^|\.)id$/.test(p.path) ? 'step_id' : 'format');
    case 'invalid_value':
      return say('one_of', { values: list(i.values ?? [], 'disjunction') });
    case 'unrecognized_keys':
      return say('unknown_fields', { count: i.keys?.length ?? 1, keys: list(i.keys ?? [], 'conjunction') });
    case 'duplicate_id':
      return say('duplicate_id', { id: i.id ?? '' });
    case 'phase_not_listed':
      return say('phase_not_listed', { phase: i.phase ?? '' });
    default:
      return say('other', { detail: p.message });
  }
}

/**
 * Loads and validates a template file: the built-in one by default, or a custom one (BWPREP_TEMPLATE).
 * Throws a StartupError naming `opts.variable` (when given) and listing every problem in plain words.
 */
export function loadTemplate(file: string = BUILT_IN_TEMPLATE, opts: { variable?: string } = {}): Template {
  const r = readTemplateFile(file);
  if (r.ok) return r.template;
  const variable = opts.variable ?? 'template';
  if (r.reason === 'invalid') {
    throw new TemplateStartupError({ variable, ...r.vars }, r.problems);
  }
  throw new StartupError(`startup.template.${r.reason}`, { variable, ...r.vars });
}

/** An invalid custom template at start-up: one sentence, then every problem on its own line, per locale. */
class TemplateStartupError extends StartupError {
  constructor(
    vars: Record<string, string | number>,
    readonly problems: TemplateProblem[],
  ) {
    super('startup.template.invalid', vars);
    this.message = this.render('en');
  }

  override render(locale: Locale): string {
    return [t(locale, this.key, this.vars), ...this.problems.map((p) => `  ${describeProblem(locale, p)}`)].join('\n');
  }
}
